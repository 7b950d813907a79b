"""The learner's locustfile: read with ``ast`` (never imported here) and run by locust
in a process of its own against the service."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from checker.observe.load import LocustCouldNotRun, describe, run_locust
from checker.pytest_plugin import progress

USER_BASES = {"HttpUser", "FastHttpUser", "User"}
CLIENT_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "request"}
#: A stats row whose URL still carries an id: "/books/1234", "/stock/9780000000017", "?offset=40".
UNGROUPED = re.compile(r"[/=]\d+(?=[/?&#]|$)")


@dataclass
class Findings:
    users: list[str] = field(default_factory=list)
    tasks: dict[str, int | None] = field(default_factory=dict)  # task -> weight (None: not given)
    wait_time: bool = False
    ungrouped_calls: list[int] = field(default_factory=list)  # line numbers


def _name_of(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        return _name_of(node.func)
    return ""


def _is_dynamic(url: ast.expr) -> bool:
    if isinstance(url, ast.Constant):
        return False
    if isinstance(url, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in url.values)
    return True  # concatenation, .format(), a variable: built at run time


def inspect(source: str) -> Findings:
    tree = ast.parse(source)
    found = Findings()
    classes = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}

    def is_user(cls: ast.ClassDef, seen: set[str]) -> bool:
        for base in cls.bases:
            name = _name_of(base)
            if name in USER_BASES:
                return True
            if name in classes and name not in seen and is_user(classes[name], seen | {name}):
                return True
        return False

    def lineage(cls: ast.ClassDef) -> list[ast.ClassDef]:
        out, todo = [], [cls]
        while todo:
            c = todo.pop()
            if c in out:
                continue
            out.append(c)
            todo.extend(classes[_name_of(b)] for b in c.bases if _name_of(b) in classes)
        return out

    for cls in classes.values():
        if not is_user(cls, {cls.name}):
            continue
        found.users.append(cls.name)
        for c in lineage(cls):
            for stmt in c.body:
                targets = []
                if isinstance(stmt, ast.Assign):
                    targets = [_name_of(t) for t in stmt.targets]
                elif isinstance(stmt, ast.AnnAssign):
                    targets = [_name_of(stmt.target)]
                elif isinstance(stmt, ast.FunctionDef) and stmt.name == "wait_time":
                    found.wait_time = True
                if "wait_time" in targets:
                    found.wait_time = True
                if "tasks" in targets and isinstance(stmt.value, ast.Dict):
                    for k, v in zip(stmt.value.keys, stmt.value.values, strict=True):
                        weight = v.value if isinstance(v, ast.Constant) else None
                        found.tasks[f"{cls.name}.{_name_of(k) if k else '?'}"] = weight
                if isinstance(stmt, ast.FunctionDef):
                    for dec in stmt.decorator_list:
                        if _name_of(dec) != "task":
                            continue
                        weight = None
                        if isinstance(dec, ast.Call) and dec.args:
                            arg = dec.args[0]
                            weight = arg.value if isinstance(arg, ast.Constant) else None
                        found.tasks[f"{cls.name}.{stmt.name}"] = weight

    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in CLIENT_METHODS or _name_of(node.func.value) != "client":
            continue
        args = node.args[1:] if node.func.attr == "request" else node.args
        url = args[0] if args else next((k.value for k in node.keywords if k.arg == "url"), None)
        if url is None or not _is_dynamic(url):
            continue
        if not any(k.arg == "name" for k in node.keywords):
            found.ungrouped_calls.append(node.lineno)
    return found


def test_locustfile_realistic(workspace: Path, base_url: str, load, measure):
    path = workspace / "locustfile.py"
    assert path.is_file(), (
        "There is no locustfile.py in your lab folder; expected one, with your load test "
        "of the storefront (the README says what it should do)."
    )
    try:
        found = inspect(path.read_text(encoding="utf-8"))
    except SyntaxError as exc:
        raise AssertionError(
            f"locustfile.py is not valid Python (line {exc.lineno}: {exc.msg})."
        ) from None
    weights = [w for w in found.tasks.values() if isinstance(w, int)]
    measure("tasks", len(found.tasks))
    measure("weights", sorted(weights))
    assert found.users, (
        "locustfile.py defines no user class; expected a class that extends HttpUser."
    )
    assert len(found.tasks) >= 3, (
        f"locustfile.py has {len(found.tasks)} task(s); expected at least 3 steps of a "
        "journey (browse the list, view a book, check its stock, order...), each a @task."
    )
    unweighted = sorted(t.split(".", 1)[1] for t, w in found.tasks.items() if w is None)
    assert not unweighted, (
        f"These tasks have no weight: {', '.join(unweighted)}. Give each one, like "
        "@task(5), so that frequent steps (browsing) happen more often than rare ones."
    )
    assert len(set(weights)) >= 2, (
        f"Every task has the same weight ({weights[0]}); real shoppers browse more than "
        "they buy. Expected at least two different weights."
    )
    assert found.wait_time, (
        "Your users never pause (no wait_time): each one fires requests back to back, "
        "which no person does. Expected a wait_time such as between(1, 3)."
    )
    assert not found.ungrouped_calls, (
        "The requests on line(s) "
        f"{', '.join(map(str, found.ungrouped_calls))} build their URL at run time but have "
        "no name=: locust would count every id as an endpoint of its own. Expected "
        'name="/books/[id]" (or similar) on each.'
    )

    def show(sample: dict) -> None:
        progress(f"your locustfile · {describe(sample)}")

    try:
        run = run_locust(
            path, host=base_url, users=10, run_time_s=3, workdir=load.workdir / "learner",
            on_progress=show,
        )  # fmt: skip
    except LocustCouldNotRun as exc:
        raise AssertionError(
            f"Locust could not run your locustfile: {exc.message}\n{exc.log_tail[-1500:]}"
        ) from None
    measure("requests", run.total.requests)
    measure("names", run.names)
    log = run.log()
    if "Traceback (most recent call last)" in log:
        tb = log[log.index("Traceback (most recent call last)") :].strip().splitlines()
        raise AssertionError(
            "Your locustfile raised an exception while it ran:\n" + "\n".join(tb[-6:])
        )
    assert run.total.requests > 0, (
        "Your locustfile ran for 3 s with 10 users and made no request at all."
    )
    ungrouped = [n for n in run.names if UNGROUPED.search(n)]
    assert len(ungrouped) <= 1, (
        f"Locust's statistics show {len(ungrouped)} rows that differ only by an id "
        f"({', '.join(ungrouped[:3])}...); expected them grouped under one name with name=."
    )

"""The learner's locustfile: read with ``ast`` (never imported here) and run by locust
in a process of its own against the service."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from _helpers import RUN_S, RUN_USERS

from checker.observe.load import LocustCouldNotRun, describe, run_locust
from checker.pytest_plugin import progress
from checker.verdict import fail

USER_BASES = {"HttpUser", "FastHttpUser", "User"}
TASKSET_BASES = {"TaskSet", "SequentialTaskSet"}
#: Wait-time helpers whose every argument 0 means: no pause at all.
WAIT_HELPERS = {"constant", "between", "constant_pacing", "constant_throughput"}
#: The most requests per second one user may make and still be a person who pauses.
#: between(0.5, 2) can't exceed 2; a 50-100 ms pause allows up to 13 (1 / 0.075 s),
#: and fewer only when the run itself is slow: at 5.0 it passed once in CI.
MAX_RPS_PER_USER = 2.5
MIN_ENDPOINTS = 3
MIN_JOURNEY_REQUESTS = 30  # fewer in the whole run: too few to show a journey
CLIENT_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "request"}
#: A stats row whose URL still carries an id: "/books/1234", "/stock/9780000000017", "?offset=40".
UNGROUPED = re.compile(r"[/=]\d+(?=[/?&#]|$)")


@dataclass
class Findings:
    users: list[str] = field(default_factory=list)
    tasks: dict[str, int | None] = field(default_factory=dict)  # task -> weight (None: not given)
    wait_time: bool = False
    no_pause: bool = False  # a wait_time that never waits: constant(0), between(0, 0)
    ungrouped_calls: list[int] = field(default_factory=list)  # line numbers
    requests: set[str] = field(default_factory=set)  # "GET /books/{}": what the calls request


def _never_waits(value: ast.expr | None) -> bool:
    if not (isinstance(value, ast.Call) and _name_of(value.func) in WAIT_HELPERS):
        return False
    args = [*value.args, *(k.value for k in value.keywords)]
    return bool(args) and all(
        isinstance(a, ast.Constant) and isinstance(a.value, int | float) and a.value == 0
        for a in args
    )


def _name_of(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        return _name_of(node.func)
    return ""


_ID_SEGMENT = re.compile(r"/[^/]*(\d|\{\})[^/]*")


def _shape(method: str, url: ast.expr) -> str | None:
    """``"GET /books/{}"`` for a call's URL (a string or an f-string), else None."""
    if isinstance(url, ast.Constant) and isinstance(url.value, str):
        text = url.value
    elif isinstance(url, ast.JoinedStr):
        text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in url.values)
    else:
        return None
    path = _ID_SEGMENT.sub("/{}", text.split("?", 1)[0]).rstrip("/") or "/"
    return f"{method.upper()} {path}"


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

    def is_a(cls: ast.ClassDef, bases: set[str], seen: set[str]) -> bool:
        for base in cls.bases:
            name = _name_of(base)
            if name in bases:
                return True
            if name in classes and name not in seen and is_a(classes[name], bases, seen | {name}):
                return True
        return False

    def is_user(cls: ast.ClassDef, seen: set[str]) -> bool:
        return is_a(cls, USER_BASES, seen)

    tasksets = {n for n, c in classes.items() if is_a(c, TASKSET_BASES, {n})}

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
        user = is_user(cls, {cls.name})
        if not user and cls.name not in tasksets:
            continue
        if user:
            found.users.append(cls.name)
        # A TaskSet's tasks are the journey's steps as much as a user's own.
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
                    found.no_pause = found.no_pause or _never_waits(stmt.value)
                if "tasks" in targets and isinstance(stmt.value, ast.Dict):
                    for k, v in zip(stmt.value.keys, stmt.value.values, strict=True):
                        if k is not None and _name_of(k) in tasksets:
                            continue  # a TaskSet: its own tasks are counted
                        weight = v.value if isinstance(v, ast.Constant) else None
                        found.tasks[f"{cls.name}.{_name_of(k) if k else '?'}"] = weight
                if "tasks" in targets and isinstance(stmt.value, ast.List | ast.Tuple):
                    for k in stmt.value.elts:
                        if _name_of(k) not in tasksets:
                            found.tasks[f"{cls.name}.{_name_of(k) or '?'}"] = None
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
        if url is not None and node.func.attr != "request":
            shape = _shape(node.func.attr, url)
            if shape:
                found.requests.add(shape)
        if url is None or not _is_dynamic(url):
            continue
        if not any(k.arg == "name" for k in node.keywords):
            found.ungrouped_calls.append(node.lineno)
    return found


def test_locustfile_realistic(workspace: Path, base_url: str, load, measure):
    path = workspace / "locustfile.py"
    if not path.is_file():
        fail(
            "no-locustfile",
            "There is no locustfile.py in your lab folder; expected one, with your load test "
            "of the storefront (the README says what it should do).",
        )
    try:
        found = inspect(path.read_text(encoding="utf-8"))
    except SyntaxError as exc:
        fail("syntax-error", f"locustfile.py is not valid Python (line {exc.lineno}: {exc.msg}).")
    weights = [w for w in found.tasks.values() if isinstance(w, int)]
    measure("tasks", len(found.tasks))
    measure("weights", sorted(weights))
    if not found.users:
        fail(
            "no-user",
            "locustfile.py defines no user class; expected a class that extends HttpUser.",
        )
    if len(found.tasks) < 3:
        fail(
            "few-tasks",
            f"locustfile.py has {len(found.tasks)} task(s); expected at least 3 steps of a "
            "journey (browse the list, view a book, check its stock, order...), each a @task "
            "(on the user, or in a TaskSet).",
        )
    unweighted = sorted(t.split(".", 1)[1] for t, w in found.tasks.items() if w is None)
    if unweighted:
        fail(
            "unweighted",
            f"These tasks have no weight: {', '.join(unweighted)}. Give each one, like "
            "@task(5), so that frequent steps (browsing) happen more often than rare ones.",
        )
    if len(set(weights)) < 2:
        fail(
            "same-weights",
            f"Every task has the same weight ({weights[0]}); real shoppers browse more than "
            "they buy. Expected at least two different weights.",
        )
    if not found.wait_time or found.no_pause:
        fail(
            "no-think-time",
            "Your users never pause "
            + ("(their wait_time is always 0)" if found.no_pause else "(no wait_time)")
            + ": each one fires requests back to back, which no person does. Expected a "
            "wait_time such as between(1, 3).",
        )
    if found.ungrouped_calls:
        fail(
            "ungrouped-urls",
            "The requests on line(s) "
            f"{', '.join(map(str, found.ungrouped_calls))} build their URL at run time but "
            "have no name=: locust would count every id as an endpoint of its own. Expected "
            'name="/books/[id]" (or similar) on each.',
        )

    def show(sample: dict) -> None:
        progress(f"your locustfile · {describe(sample)}")

    try:  # in the run's sandbox: see Load.learner_args
        run = run_locust(on_progress=show, prepared=load.prepared.pop("learner", None),
                         **load.learner_args())  # fmt: skip
    except LocustCouldNotRun as exc:
        fail(
            "does-not-run",
            f"Locust could not run your locustfile: {exc.message}\n{exc.log_tail[-1500:]}",
        )
    measure("requests", run.total.requests)
    measure("names", run.names)
    log = run.log()
    if "Traceback (most recent call last)" in log:
        tb = log[log.index("Traceback (most recent call last)") :].strip().splitlines()
        fail(
            "raises",
            "Your locustfile raised an exception while it ran:\n" + "\n".join(tb[-6:]),
        )
    if run.total.requests == 0:
        fail(
            "no-requests",
            f"Your locustfile ran for {RUN_S} s with {RUN_USERS} users and made no request at all.",
        )
    ungrouped = [n for n in run.names if UNGROUPED.search(n)]
    if len(ungrouped) > 1:
        fail(
            "ungrouped-urls",
            f"Locust's statistics show {len(ungrouped)} rows that differ only by an id "
            f"({', '.join(ungrouped[:3])}...); expected them grouped under one name with name=.",
        )
    failing = [e for e in run.endpoints if e.requests and e.failures == e.requests]
    if failing:
        rows = ", ".join(f"{e.method} {e.name}" for e in failing[:3])
        fail(
            "requests-fail",
            f"Every request of these rows failed: {rows}. A load test of error answers "
            "measures nothing: check the URLs and bodies your tasks send.",
        )
    # What the run really did, whatever its tasks and rows are called: the endpoints
    # (method and path) that answered it. A run too short to show the journey (a slow
    # service answers a handful of requests in a few seconds) is judged by the requests
    # the file makes instead.
    answered = sorted({e for s in run.samples for e in s.get("endpoints", [])})
    measure("endpoints", answered)
    if run.total.requests < MIN_JOURNEY_REQUESTS:
        answered = sorted(set(answered) | found.requests)
    if len(answered) < MIN_ENDPOINTS:
        fail(
            "few-endpoints",
            f"Your locustfile's run got answers from {len(answered)} endpoint(s) of the "
            f"service ({', '.join(answered) or 'none'}); expected a journey through at least "
            f"{MIN_ENDPOINTS} (the list, a book, its stock, an order...).",
        )
    per_user = run.total.rps / RUN_USERS
    measure("rps_per_user", round(per_user, 2))
    if per_user > MAX_RPS_PER_USER:
        fail(
            "no-think-time",
            f"Each of your {RUN_USERS} users made {per_user:.1f} requests per second: they "
            "barely pause between pages. Expected think time of a second or so, as people take.",
        )

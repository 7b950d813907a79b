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
#: Locust's wait-time helpers and their parameters, in order (locust/user/wait_time.py).
WAIT_HELPERS = {
    "between": ("min_wait", "max_wait"),
    "constant": ("wait_time",),
    "constant_pacing": ("wait_time",),
    "constant_throughput": ("task_runs_per_second",),
}
#: The shortest mean pause between two pages that a person could take: a quarter of a
#: second is a simple reaction time, before any reading. The reference's between(0.5, 2)
#: pauses 1.25 s on average, the hint's between(1, 3) 2 s, a learner's between(0.3, 1.5)
#: 0.9 s and constant_throughput(1) about 1 s: all at least 3.6 times this; the cheat
#: between(0.05, 0.1) (0.075 s, milliseconds written as seconds) is 3.3 times under it.
#: Judged from the file when its wait_time is locust's helpers with numbers; measured
#: from the run (the users' own pauses, response times excluded) when it is computed.
MIN_PAUSE_S = 0.25
MIN_ENDPOINTS = 3
MIN_JOURNEY_REQUESTS = 30  # fewer in the whole run: too few to show a journey
CLIENT_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "request"}
#: A stats row whose URL still carries an id: "/books/1234", "/stock/9780000000017", "?offset=40".
UNGROUPED = re.compile(r"[/=]\d+(?=[/?&#]|$)")


@dataclass
class Wait:
    """A class's wait_time: where, its source, and the mean pause it gives (seconds;
    None when it is computed as the users run)."""

    owner: str
    text: str
    pause_s: float | None
    helper: str = ""
    args: tuple[float, ...] = ()

    def described(self) -> str:
        """The pause in the learner's terms: what their wait_time makes each user do."""
        src = f"{self.owner}: {self.text}"
        assert self.pause_s is not None
        if self.helper == "constant_throughput":
            return (f"each of your users runs {self.args[0]:g} tasks per second ({src}): "
                    f"about {self.pause_s:.3g} s between pages")  # fmt: skip
        if self.helper == "constant_pacing":
            return (f"each of your users starts a task every {self.pause_s:.3g} s ({src}): "
                    "less than that between pages")  # fmt: skip
        return f"your users pause {self.pause_s:.3g} s on average between pages ({src})"


@dataclass
class Findings:
    users: list[str] = field(default_factory=list)
    tasks: dict[str, int | None] = field(default_factory=dict)  # task -> weight (None: not given)
    wait_time: bool = False
    no_pause: bool = False  # a wait_time that never waits: constant(0), between(0, 0)
    waits: list[Wait] = field(default_factory=list)  # each user's and TaskSet's own
    pauseless: list[str] = field(default_factory=list)  # user classes with no wait_time
    ungrouped_calls: list[int] = field(default_factory=list)  # line numbers
    requests: set[str] = field(default_factory=set)  # "GET /books/{}": what the calls request

    @property
    def short_waits(self) -> list[Wait]:
        return [w for w in self.waits if w.pause_s is not None and w.pause_s < MIN_PAUSE_S]

    @property
    def computed_waits(self) -> list[Wait]:
        return [w for w in self.waits if w.pause_s is None]


def number(node: ast.expr | None, names: dict[str, float]) -> float | None:
    """The value of a numeric expression made of numbers, ``names`` (constants) and
    + - * / // % **; None for anything else (a call, an attribute, a string...)."""
    if isinstance(node, ast.Constant):
        v = node.value
        return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        v = number(node.operand, names)
        return None if v is None else (-v if isinstance(node.op, ast.USub) else v)
    if isinstance(node, ast.BinOp):
        a, b = number(node.left, names), number(node.right, names)
        if a is None or b is None:
            return None
        op = node.op
        try:
            if isinstance(op, ast.Add):
                return a + b
            if isinstance(op, ast.Sub):
                return a - b
            if isinstance(op, ast.Mult):
                return a * b
            if isinstance(op, ast.Div):
                return a / b
            if isinstance(op, ast.FloorDiv):
                return float(a // b)
            if isinstance(op, ast.Mod):
                return a % b
            if isinstance(op, ast.Pow) and abs(b) <= 10:
                return float(a**b)
        except (ZeroDivisionError, OverflowError):
            return None
    return None


def constants(body: list[ast.stmt], names: dict[str, float] | None = None,
              rebound: set[str] = frozenset()) -> dict[str, float]:  # fmt: skip
    """The numeric constants a module's (or a class's) own statements bind once, in
    order (``MAX_WAIT = MIN_WAIT * 2`` sees MIN_WAIT), on top of ``names``. A name bound
    more than once, or in ``rebound``, is no constant."""
    out = dict(names or {})
    bound: dict[str, int] = {}
    for stmt in body:
        targets: list[ast.expr] = []
        if isinstance(stmt, ast.Assign):
            targets = stmt.targets
        elif isinstance(stmt, ast.AnnAssign | ast.AugAssign):
            targets = [stmt.target]
        elif isinstance(stmt, ast.For | ast.AsyncFor | ast.With | ast.AsyncWith):
            targets = [n for n in ast.walk(stmt) if isinstance(n, ast.Name)
                       and isinstance(n.ctx, ast.Store)]  # fmt: skip
        elif isinstance(stmt, ast.Import | ast.ImportFrom):
            for alias in stmt.names:
                bound[(alias.asname or alias.name).split(".")[0]] = 2
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound[stmt.name] = 2
        else:  # if/try/while...: whatever they bind is no constant
            for n in ast.walk(stmt):
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                    bound[n.id] = 2
        for t in targets:
            for n in ast.walk(t):
                if isinstance(n, ast.Name):
                    bound[n.id] = bound.get(n.id, 0) + 1
        if (
            isinstance(stmt, ast.Assign | ast.AnnAssign)
            and len(targets) == 1
            and isinstance(targets[0], ast.Name)
            and stmt.value is not None
        ):
            v = number(stmt.value, out)
            if v is not None:
                out[targets[0].id] = v
    for name, times in bound.items():
        if times > 1 or name in rebound:
            out.pop(name, None)
    for name in rebound:
        out.pop(name, None)
    return out


def mean_pause(value: ast.expr | None, names: dict[str, float]) -> tuple[float | None, str, tuple]:
    """The mean pause (seconds) a wait_time gives between two tasks, its helper and
    arguments, when it is one of locust's helpers called with numbers; else None."""
    if not isinstance(value, ast.Call):
        return None, "", ()
    helper = _name_of(value.func)
    params = WAIT_HELPERS.get(helper)
    if params is None or isinstance(value.func, ast.Call):
        return None, "", ()
    if len(value.args) > len(params) or any(isinstance(a, ast.Starred) for a in value.args):
        return None, helper, ()
    given: dict[str, ast.expr] = dict(zip(params, value.args, strict=False))
    for k in value.keywords:
        if k.arg not in params or k.arg in given:
            return None, helper, ()
        given[k.arg] = k.value
    args = tuple(number(given.get(p), names) for p in params)
    if any(a is None for a in args):
        return None, helper, ()
    vals: tuple[float, ...] = tuple(a for a in args if a is not None)
    if helper == "between":
        return (vals[0] + vals[1]) / 2, helper, vals
    if helper == "constant_throughput":
        return (1 / vals[0] if vals[0] > 0 else None), helper, vals
    return vals[0], helper, vals  # constant: the pause; constant_pacing: a task's cycle


def _abstract(cls: ast.ClassDef) -> bool:
    """``abstract = True`` in the class's body: locust never runs it."""
    return any(
        isinstance(stmt, ast.Assign)
        and "abstract" in (_name_of(t) for t in stmt.targets)
        and isinstance(stmt.value, ast.Constant)
        and stmt.value.value is True
        for stmt in cls.body
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

    # Names a function rebinds with ``global`` are no constants.
    rebound = {n for node in ast.walk(tree) if isinstance(node, ast.Global) for n in node.names}
    module_names = constants(tree.body, rebound=rebound)
    judged: set[int] = set()  # the wait_time statements already judged (shared by subclasses)

    def own_wait(cls: ast.ClassDef, seen: frozenset[str] = frozenset()) -> ast.stmt | None:
        """The statement that gives ``cls`` its wait_time: its own last one, else its
        bases' (left to right, depth first: Python's lookup for simple hierarchies)."""
        for stmt in reversed(cls.body):
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                if stmt.name == "wait_time":
                    return stmt
            elif isinstance(stmt, ast.Assign | ast.AnnAssign):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                if "wait_time" in (_name_of(t) for t in targets):
                    return stmt
        for base in cls.bases:
            name = _name_of(base)
            if name in classes and name not in seen | {cls.name}:
                stmt = own_wait(classes[name], seen | {cls.name})
                if stmt is not None:
                    return stmt
        return None

    def waits_in_tasksets(cls: ast.ClassDef) -> bool:
        """Whether every task of a user without a wait_time is a TaskSet with one of its
        own (it pauses by the TaskSet's), or it has no task at all (locust refuses it)."""
        steps: list[str] = []
        for c in lineage(cls):
            for stmt in c.body:
                if isinstance(stmt, ast.FunctionDef) and any(
                    _name_of(d) == "task" for d in stmt.decorator_list
                ):
                    steps.append("")
                elif isinstance(stmt, ast.Assign) and "tasks" in map(_name_of, stmt.targets):
                    value = stmt.value
                    keys = value.keys if isinstance(value, ast.Dict) else getattr(value, "elts", [])
                    steps += [_name_of(k) if k is not None else "" for k in keys] or [""]
        return all(n in tasksets and own_wait(classes[n]) is not None for n in steps)

    for cls in classes.values():
        user = is_user(cls, {cls.name})
        if not user and cls.name not in tasksets:
            continue
        if user:
            found.users.append(cls.name)
        stmt = own_wait(cls)
        if user and stmt is None and not _abstract(cls) and not waits_in_tasksets(cls):
            found.pauseless.append(cls.name)  # locust's User.wait_time: constant(0)
        if stmt is not None and id(stmt) not in judged:
            judged.add(id(stmt))
            owner = next((c.name for c in classes.values() if stmt in c.body), cls.name)
            if isinstance(stmt, ast.Assign | ast.AnnAssign):
                names = constants(classes[owner].body, module_names, rebound)
                pause, helper, args = mean_pause(stmt.value, names)
                text = "wait_time = " + (ast.get_source_segment(source, stmt.value) or "?")
            else:
                pause, helper, args = None, "", ()
                text = f"def {stmt.name}({ast.unparse(stmt.args)})"
            found.waits.append(Wait(owner, " ".join(text.split()), pause, helper, args))
            found.no_pause = found.no_pause or pause == 0
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
    if not found.wait_time or found.no_pause or found.pauseless:
        fail(
            "no-think-time",
            "Your users never pause "
            + (
                "(their wait_time is always 0)"
                if found.no_pause
                else f"({', '.join(found.pauseless)}: no wait_time)"
                if found.pauseless and found.wait_time
                else "(no wait_time)"
            )
            + ": each one fires requests back to back, which no person does. Expected a "
            "wait_time such as between(1, 3).",
        )
    measure("wait_times", {f"{w.owner}: {w.text}": w.pause_s and round(w.pause_s, 3)
                           for w in found.waits})  # fmt: skip
    if found.short_waits:
        said = "; ".join(w.described() for w in found.short_waits)
        fail(
            "short-think-time",
            said[:1].upper()
            + said[1:]
            + f". People take a second or so to read a page; expected a mean pause of at "
            f"least {MIN_PAUSE_S:g} s, such as between(1, 3) (locust's wait times are in "
            "seconds).",
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
    measure("response_ms_mean", round(run.total.avg_ms, 1))
    computed = found.computed_waits
    if computed:
        # A wait_time computed as the users run: the pauses it asked for are counted as
        # the users take them (between two tasks), so neither the service's response
        # times nor a busy machine count as think time.
        pause = run.mean_pause_s
        if pause is None and per_user > 0:  # no pause seen: locust's own totals instead
            pause = 1 / per_user - run.total.avg_ms / 1000
        measure("mean_pause_s", None if pause is None else round(pause, 3))
        if pause is not None and pause < MIN_PAUSE_S:
            n, _ = run.pauses
            where = ", ".join(f"{w.owner}: {w.text}" for w in computed)
            over = f", measured over {n} pauses of the run" if n else ", measured"
            fail(
                "short-think-time",
                f"Your users paused {pause:.3g} s on average between one step of their "
                f"journey and the next ({where}{over}); people take a second "
                f"or so to read a page. Expected a mean pause of at least {MIN_PAUSE_S:g} s: "
                "a wait_time returns seconds.",
            )

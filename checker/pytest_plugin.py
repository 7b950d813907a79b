"""The pytest plugin every hidden check runs under.

Loaded with ``-p checker.pytest_plugin`` in a pytest process of its own, with plugin
autoload disabled (see DESIGN.md, principle 7). It never imports learner code: the
service under test is a separate process, reached over HTTP, and its database and
Redis are reached with their own clients.

What a hidden check can use (fixtures):

``base_url``   the running service, e.g. ``http://127.0.0.1:53121``
``http``       an ``httpx.Client`` on that URL (5 s timeout, no redirects followed)
``db``         a psycopg connection (autocommit) to this run's own database
``redis``      a redis client on this run's own Redis db (labs that declare redis)
``measure``    ``measure(name, value)`` records a number into the result's measurements
``note``       ``note(text)``: what a passing check found (its message, shown beside it)
``rng``        a ``random.Random`` seeded from the run's seed (``LAB_SEED``) and the check's
               id: probe values drawn per run, replayable with the same seed
``workspace``  the path of the learner's code, to read files (never to import them)
``sinks``      the run's provider sinks by name (``sinks["email"]``), each reset before
               the test: a ``checker.observe.sinks.Sink`` (labs that declare ``sinks``)
``redis_link`` the service's link to Redis, to cut mid-run (``.cut()``, ``.restore()``,
               ``with redis_link.outage():``), restored after the test: a
               ``checker.observe.redis.RedisLink`` (labs with ``faults = ["redis"]``)
``worker``     the run's RQ worker, to kill and restart mid-run: a
               ``checker.observe.rq.WorkerControl`` (labs with ``worker`` in services)

A long check (a load run) calls ``progress("...")`` to show a live line in the
learner's terminal. An exception with ``cannot_judge = True`` (``LoadInvalid``) makes
the check an error, with the exception's message, never a fail.

How a check reports: one check id per test function, taken from
``@pytest.mark.check("id")`` or else from the name ``test_<id>``. A failed
``assert cond, "message"`` (or ``checker.verdict.fail(kind, message)``, which also names
the failure's kind so the report can show the hint for it) becomes the learner-facing message (the run uses
``--assert=plain``, so the hidden code is never quoted). Messages should say what was
expected and what the service did, in the learner's terms.

The runner reads events as JSON lines from the file descriptor in ``LAB_EVENTS_FD``,
so results stream as checks finish. With ``LAB_GO_FD`` set, the session waits, after
collection, for a line on that descriptor: ``go`` (the service is healthy) or anything
else (abort); ``go`` carries the run's URLs as JSON. That lets collection overlap with
provisioning and the service's start-up.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

_RESULTS: dict[str, dict[str, Any]] = {}
_EVENTS = None
_MEASUREMENTS: dict[str, Any] = {}
_NOTES: dict[str, str] = {}

#: Message for an ``assert`` with no message (a checker bug: every assert should have one).
GENERIC_FAILURE = "The check failed."


def _emit(event: dict[str, Any]) -> None:
    if _EVENTS is None:
        return
    _EVENTS.write(json.dumps(event) + "\n")
    _EVENTS.flush()


def progress(message: str) -> None:
    """Live progress of a long check (a load run, say), shown in the learner's terminal
    while it runs: one short line, replaced by the next."""
    _emit({"event": "progress", "message": message})


def pytest_configure(config: pytest.Config) -> None:
    global _EVENTS
    config.addinivalue_line("markers", "check(id): the lab.toml check this test implements")
    fd = os.environ.get("LAB_EVENTS_FD")
    if fd and _EVENTS is None:
        _EVENTS = os.fdopen(int(fd), "w", buffering=1, closefd=False)


def check_id_of(item: pytest.Item) -> str:
    marker = item.get_closest_marker("check")
    if marker and marker.args:
        return str(marker.args[0])
    name = getattr(item, "originalname", None) or item.name
    return name.removeprefix("test_")


def pytest_collection_modifyitems(session: pytest.Session, config, items: list) -> None:
    # A run of some checks only (LAB_ONLY_CHECKS, the self-verification's mutants).
    only = {c for c in os.environ.get("LAB_ONLY_CHECKS", "").split(",") if c}
    if only:
        keep = [item for item in items if check_id_of(item) in only]
        config.hook.pytest_deselected(items=[item for item in items if item not in keep])
        items[:] = keep
    # Run (and so stream) checks in the manifest's order; a check's tests stay together.
    order = [c for c in os.environ.get("LAB_CHECK_ORDER", "").split(",") if c]
    if order:
        rank = {cid: i for i, cid in enumerate(order)}
        items.sort(key=lambda item: rank.get(check_id_of(item), len(rank)))


def pytest_collection_finish(session: pytest.Session) -> None:
    ids: list[str] = []
    for item in session.items:
        cid = check_id_of(item)
        if cid not in ids:
            ids.append(cid)
    _emit({"event": "collected", "checks": ids})
    go_fd = os.environ.get("LAB_GO_FD")
    if go_fd:
        # Not stdin: pytest's capture points fd 0 at /dev/null.
        with os.fdopen(int(go_fd), "r", closefd=True) as go:
            word, _, urls = go.readline().strip().partition(" ")
        if word != "go":
            pytest.exit("the service did not start; no check ran", returncode=2)
        # The run's URLs (service, database, Redis) are known only now.
        os.environ.update(json.loads(urls))


def _kind_of(excinfo: pytest.ExceptionInfo[BaseException] | None) -> str:
    """The failure kind a check named (``checker.verdict``), or ``""``."""
    return getattr(excinfo.value, "kind", "") if excinfo is not None else ""


def _describe(excinfo: pytest.ExceptionInfo[BaseException]) -> tuple[str, str]:
    """(status, learner-facing message) for an exception raised inside a check."""
    import httpx

    exc = excinfo.value
    if isinstance(exc, AssertionError):
        msg = str(exc.args[0]) if exc.args else GENERIC_FAILURE
        return "fail", msg.strip() or GENERIC_FAILURE
    if isinstance(exc, httpx.TimeoutException):
        req = _request_of(exc)
        return "fail", (
            f"The service did not answer {req or 'a request'} in time. A handler may be stuck "
            "(an infinite loop, a lock never released, a blocking call)."
        )
    if isinstance(exc, (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError)):
        req = _request_of(exc)
        return "fail", (
            f"The service dropped the connection{' during ' + req if req else ''} without an "
            f"answer: it may have crashed. Its log: {os.environ.get('LAB_SERVICE_LOG', '?')}"
        )
    if isinstance(exc, pytest.skip.Exception):
        return "skip", str(exc)
    if getattr(exc, "cannot_judge", False):
        # The check could not measure (e.g. locust saturated its CPU): error, never fail.
        return "error", str(exc)
    return "error", (
        f"The check itself could not run ({type(exc).__name__}). This is a problem in "
        "Backend Lab, not in your code: please report it."
    )


def _request_of(exc: BaseException) -> str:
    try:
        req = exc.request  # type: ignore[attr-defined]
        return f"{req.method} {req.url.raw_path.decode()}"
    except (AttributeError, RuntimeError):
        return ""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    cid = check_id_of(item)
    entry = _RESULTS.setdefault(
        cid,
        {"id": cid, "status": "pass", "message": "", "kind": "", "duration_s": 0.0, "tests": 0},
    )
    entry["duration_s"] += call.duration
    if report.when == "call":
        entry["tests"] += 1
    if report.passed:
        return
    if report.skipped:
        if entry["status"] == "pass":
            entry["status"] = "skip"
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
            entry["message"] = str(reason).removeprefix("Skipped: ")
        return
    status, message = _describe(call.excinfo) if call.excinfo else ("error", GENERIC_FAILURE)
    if status == "error" and call.excinfo is not None:
        # For maintainers: the full story goes to the run's checks.log, never to the learner.
        print(f"\n[{cid}] {report.when} error:\n{call.excinfo.getrepr(style='long')}",
              file=sys.__stderr__, flush=True)  # fmt: skip
    if report.when != "call" and status == "fail":
        # A fixture could not be set up: the check could not judge anything.
        status = "error" if not _is_service_fault(call.excinfo) else "fail"
    rank = {"pass": 0, "skip": 1, "fail": 2, "error": 3}
    if rank[status] > rank[entry["status"]]:
        entry["status"] = status
        entry["message"] = message
        entry["kind"] = _kind_of(call.excinfo) if status == "fail" else ""


def _is_service_fault(excinfo: pytest.ExceptionInfo[BaseException] | None) -> bool:
    import httpx

    return excinfo is not None and isinstance(excinfo.value, (AssertionError, httpx.HTTPError))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    yield
    # Tests of one check are adjacent: once the last of them ran, stream the check.
    cid = check_id_of(item)
    if nextitem is None or check_id_of(nextitem) != cid:
        entry = dict(_RESULTS[cid])
        entry["duration_s"] = round(entry["duration_s"], 3)
        if entry["status"] == "pass" and cid in _NOTES:
            entry["message"] = _NOTES[cid]
        entry["measurements"] = {
            k.split(".", 1)[1]: v for k, v in _MEASUREMENTS.items() if k.split(".", 1)[0] == cid
        }
        _emit({"event": "check", **entry})


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _emit({"event": "done", "exitstatus": int(exitstatus)})


# ---------------------------------------------------------------- fixtures


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: hidden checks run under `lab check`")
    return value


@pytest.fixture(scope="session")
def base_url() -> str:
    return _env("LAB_SERVICE_URL").rstrip("/")


@pytest.fixture(scope="session")
def workspace() -> Path:
    return Path(_env("LAB_WORKSPACE"))


@pytest.fixture
def http(base_url: str):
    import httpx

    timeout = float(os.environ.get("LAB_HTTP_TIMEOUT", "5"))
    # No keep-alive: after an unhandled exception uvicorn resets the connection without
    # saying so, and a reused connection would turn the learner's 500 into a ReadError.
    limits = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(
        base_url=base_url, timeout=timeout, follow_redirects=False, limits=limits
    ) as client:
        yield client


@pytest.fixture(scope="session")
def db():
    import psycopg

    with psycopg.connect(_env("LAB_RUN_DATABASE_URL"), autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="session")
def statements():
    """The run database's pg_stat_statements (``checker.observe.postgres.StatementLog``);
    on a server that lacks it, the check skips, saying how to enable it."""
    from checker.errors import StatementsUnavailable
    from checker.observe.postgres import StatementLog

    try:
        log = StatementLog.from_env()
    except StatementsUnavailable as exc:
        pytest.skip(exc.message)
    with log:
        yield log


@pytest.fixture(scope="session")
def redis():
    import redis as redis_lib

    client = redis_lib.Redis.from_url(_env("LAB_RUN_REDIS_URL"), decode_responses=True)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def sinks():
    """The run's provider sinks by name, each reset (no calls, no faults) for this test."""
    from checker.observe.sinks import Sink

    declared = json.loads(os.environ.get("LAB_SINKS") or "{}")
    if not declared:
        raise RuntimeError("this lab declares no sinks (lab.toml: sinks = [...])")
    opened = {name: Sink(name, url) for name, url in declared.items()}
    try:
        for sink in opened.values():
            sink.reset()
        yield opened
    finally:
        for sink in opened.values():
            sink.close()


@pytest.fixture
def redis_link():
    """The service's link to Redis (through the run's fault proxy); restored afterwards."""
    from checker.observe.redis import RedisLink

    link = RedisLink(_env("LAB_REDIS_PROXY_URL"))
    try:
        yield link
    finally:
        link.restore()


@pytest.fixture(scope="session")
def worker():
    """The run's RQ worker (kill, start, restart, status), through its supervisor."""
    from checker.observe.rq import WorkerControl

    return WorkerControl(_env("LAB_WORKER_URL"))


@pytest.fixture
def measure(request: pytest.FixtureRequest):
    """``measure(name, value)``: a number this check took, shown in the result."""
    cid = check_id_of(request.node)

    def record(name: str, value: Any) -> None:
        _MEASUREMENTS[f"{cid}.{name}"] = value

    return record


@pytest.fixture
def note(request: pytest.FixtureRequest):
    """``note(text)``: what the check measured, said even when it passes (a failure says
    it in its own message)."""
    cid = check_id_of(request.node)

    def record(text: str) -> None:
        _NOTES[cid] = text

    return record


@pytest.fixture
def rng(request: pytest.FixtureRequest):
    """A ``random.Random`` for this check's probe values: seeded from the run's seed
    (``LAB_SEED``, recorded in the result) and the check's id, so values differ per run
    (a service cannot special-case them) yet a run replays exactly with its seed."""
    import random

    seed = os.environ.get("LAB_SEED") or "0"
    return random.Random(f"{seed}:{check_id_of(request.node)}")


@pytest.fixture
def elapsed():
    """A monotonic stopwatch: ``t = elapsed(); ...; t()`` gives seconds."""

    def start():
        t0 = time.perf_counter()
        return lambda: time.perf_counter() - t0

    return start

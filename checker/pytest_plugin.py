"""The pytest plugin every hidden check runs under.

Loaded with ``-p checker.pytest_plugin`` in a pytest process of its own, with plugin
autoload disabled (see DESIGN.md, principle 7). It never imports learner code: the
service under test is a separate process, reached over HTTP, and its database and
Redis are reached with their own clients.

What a hidden check can use (fixtures):

``base_url``   the running service, e.g. ``http://127.0.0.1:53121``
``base_urls``  every instance of it (``instances = N`` in lab.toml; the first is base_url)
``http``       an ``httpx.Client`` on that URL (5 s timeout, no redirects followed)

Every ``httpx.Client`` made in a check run (the ``http`` fixture's or a check's own)
looks like ordinary traffic: each client is one of ``CLIENTS`` (a browser, curl, another
service), drawn by the run's seed, and sends what that client sends: its
User-Agent, and the headers it adds in its order (never over a header the check set). It reads a response body through a cap
(``LAB_BODY_LIMIT_MB``, default 10 MB): beyond it the check fails, saying so, so the
checker's memory stays bounded whatever the service sends.
``db``         a psycopg connection (autocommit) to this run's own database
``redis``      a redis client on this run's own Redis db (labs that declare redis)
``locks``      the lock gate and blocker transactions (``checker.observe.locks``)
``logs``       the service's output since the test began: JSON records, stray lines
``service``    the service's processes: ``service.signal("SIGTERM")``, ``wait_exit()``
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

(The last three come from their sidecars, ``checker.sidecars``: each brings its fixture.)

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

_CHROME = (("sec-ch-ua", '"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"'),)
_FETCH = (
    ("sec-fetch-site", "same-origin"),
    ("sec-fetch-mode", "cors"),
    ("sec-fetch-dest", "empty"),
)

#: What real clients of an API send: browsers (a page's fetch()), command-line tools, other
#: services. (Never httpx's own User-Agent: tests/test_hostile.py's detect_checker holds
#: the checker to that.) Each: its User-Agent, then the headers
#: it sends in its order; a header it does not send is None (httpx's default is dropped).
#: ``{uuid}`` becomes a new UUID per request. Accept-Encoding stays within what httpx
#: decodes, and nothing asks for other content or freshness (no Cache-Control: no-cache,
#: which Postman can send): a check's answer must not depend on the client drawn. Header names are lower case, as HTTP/2 and most servers' views have them.
CLIENTS: tuple[tuple[str, tuple[tuple[str, str | None], ...]], ...] = (
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36",
     (("host", ""), ("connection", "keep-alive"), *_CHROME, ("sec-ch-ua-mobile", "?0"),
      ("sec-ch-ua-platform", '"Windows"'), ("user-agent", ""), ("accept", "*/*"), *_FETCH,
      ("accept-encoding", "gzip, deflate, br"), ("accept-language", "en-US,en;q=0.9"))),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Version/18.1 Safari/605.1.15",
     (("host", ""), ("accept", "*/*"), *_FETCH, ("accept-language", "en-GB,en;q=0.9"),
      ("accept-encoding", "gzip, deflate, br"), ("user-agent", ""), ("connection", "keep-alive"))),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
     (("host", ""), ("user-agent", ""), ("accept", "*/*"), ("accept-language", "de,en-US;q=0.7,en;q=0.3"),
      ("accept-encoding", "gzip, deflate, br"), ("connection", "keep-alive"), *_FETCH)),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
     "like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
     (("host", ""), ("accept", "*/*"), *_FETCH, ("accept-language", "fr-FR,fr;q=0.9"),
      ("accept-encoding", "gzip, deflate, br"), ("user-agent", ""), ("connection", "keep-alive"))),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Mobile Safari/537.36",
     (("host", ""), ("connection", "keep-alive"), *_CHROME, ("sec-ch-ua-mobile", "?1"),
      ("sec-ch-ua-platform", '"Android"'), ("user-agent", ""), ("accept", "*/*"), *_FETCH,
      ("accept-encoding", "gzip, deflate, br"), ("accept-language", "es-ES,es;q=0.9"))),
    ("curl/8.11.0", (("host", ""), ("user-agent", ""), ("accept", "*/*"),
                     ("accept-encoding", None), ("connection", None))),
    ("python-requests/2.32.3", (("host", ""), ("user-agent", ""), ("accept-encoding", "gzip, deflate"),
                                ("accept", "*/*"), ("connection", "keep-alive"))),
    ("PostmanRuntime/7.43.0", (("user-agent", ""), ("accept", "*/*"),
                               ("postman-token", "{uuid}"), ("host", ""),
                               ("accept-encoding", "gzip, deflate, br"), ("connection", "keep-alive"))),
    ("okhttp/4.12.0", (("host", ""), ("connection", "Keep-Alive"), ("accept-encoding", "gzip"),
                       ("user-agent", ""), ("accept", None))),
    ("node", (("host", ""), ("connection", "keep-alive"), ("accept", "*/*"), ("accept-language", "*"),
              ("sec-fetch-mode", "cors"), ("user-agent", ""), ("accept-encoding", "gzip, deflate"))),
)  # fmt: skip
USER_AGENTS = tuple(agent for agent, _ in CLIENTS)

#: What httpx sends unless told otherwise: a header of these values the check did not set.
_HTTPX_DEFAULTS = {"accept": "*/*", "connection": "keep-alive",
                   "accept-encoding": ("gzip, deflate", "gzip, deflate, br", "gzip, deflate, br, zstd")}  # fmt: skip


def as_client(request, agent: str, profile) -> None:
    """``request`` (an ``httpx.Request`` whose User-Agent is httpx's own) as ``agent``
    sends it: that client's headers, in its order, wherever the check left httpx's
    defaults; the check's own headers untouched, after them."""
    import uuid

    import httpx

    def is_default(name: str, value: str) -> bool:
        default = _HTTPX_DEFAULTS.get(name)
        return value in default if isinstance(default, tuple) else value == default

    sent = list(request.headers.multi_items())
    have = {name.lower(): value for name, value in sent}
    ordered: list[tuple[str, str]] = []
    for name, value in profile:
        if name == "host":
            value = have.get("host", "")
        elif name == "user-agent":
            value = agent
        elif name in have and not is_default(name, have[name]):
            value = have[name]  # the check's own: kept, in the client's place for it
        elif value == "{uuid}":
            value = str(uuid.uuid4())
        if value:
            ordered.append((name, value))
    placed = {name for name, _ in profile}
    ordered += [(n, v) for n, v in sent if n.lower() not in placed]
    request.headers = httpx.Headers(ordered)


def body_limit() -> int:
    value = os.environ.get("LAB_BODY_LIMIT_MB", "")
    return (int(value) if value.isdigit() and int(value) > 0 else 10) << 20


def _harden_httpx() -> None:
    """Every httpx client of this process: varied User-Agents, capped bodies, one shared
    TLS context unless the client is given its own."""
    import random

    import httpx

    from checker.observe import tls
    from checker.verdict import CheckFailed

    if getattr(httpx.Client, "_lab_hardened", False):
        return
    agents = random.Random(f"{os.environ.get('LAB_SEED') or '0'}:user-agents")
    limit = body_limit()

    class Capped(httpx.SyncByteStream):
        def __init__(self, inner, request: httpx.Request) -> None:
            self.inner, self.request = inner, request

        def __iter__(self):
            seen = 0
            for chunk in self.inner:
                seen += len(chunk)
                if seen > limit:
                    self.close()
                    req = self.request
                    raise CheckFailed(
                        "body-too-large",
                        f"The answer to {req.method} {req.url.raw_path.decode()} was larger "
                        f"than {limit >> 20} MB, more than any check reads, so the check "
                        "stopped reading. Does it return a whole table, or stream without end?",
                    )
                yield chunk

        def close(self) -> None:
            self.inner.close()

    class Transport(httpx.BaseTransport):
        def __init__(self, inner: httpx.BaseTransport) -> None:
            # One client per httpx client, as one person's browser or one program keeps its own.
            self.inner = inner
            self.agent, self.profile = agents.choice(CLIENTS)

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.headers.get("user-agent", "").startswith("python-httpx/"):
                as_client(request, self.agent, self.profile)
            response = self.inner.handle_request(request)
            response.stream = Capped(response.stream, request)
            return response

        def close(self) -> None:
            self.inner.close()

    init = httpx.Client.__init__

    def __init__(self, *args, **kwargs) -> None:
        if "verify" not in kwargs:  # one CA bundle load for the whole run, not ~25 ms a client
            kwargs["verify"] = tls()
        init(self, *args, **kwargs)
        self._transport = Transport(self._transport)
        self._mounts = {k: (Transport(v) if v is not None else v) for k, v in self._mounts.items()}

    httpx.Client.__init__ = __init__
    httpx.Client._lab_hardened = True


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
    _harden_httpx()
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
    lost = _lost_service(exc)
    if lost:
        return "error", (
            f"The run's {lost} stopped answering during this check ({type(exc).__name__}), "
            "so it could not judge. The run's result says what happened."
        )
    if getattr(exc, "cannot_judge", False):
        # The check could not measure (e.g. locust saturated its CPU): error, never fail.
        return "error", str(exc)
    return "error", (
        f"The check itself could not run ({type(exc).__name__}). This is a problem in "
        "Backend Lab, not in your code: please report it."
    )


def _lost_service(exc: BaseException) -> str:
    """ "PostgreSQL" or "Redis" if ``exc`` says the check lost its connection to it."""
    module = type(exc).__module__
    if module.startswith("psycopg") and type(exc).__name__ == "OperationalError":
        return "PostgreSQL"
    if module.startswith("redis") and type(exc).__name__ in ("ConnectionError", "TimeoutError"):
        return "Redis"
    return ""


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
    """The service's URL (with ``instances = N``: the first instance's)."""
    return _env("LAB_SERVICE_URL").rstrip("/")


@pytest.fixture(scope="session")
def base_urls() -> list[str]:
    """Every instance's URL (``instances = N`` in lab.toml), the first is ``base_url``."""
    return [u.rstrip("/") for u in _env("LAB_SERVICE_URLS").split(",")]


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


@pytest.fixture
def logs():
    """What the service printed since this test began, as JSON records and stray lines
    (``checker.observe.service.ServiceLog``): ``mark()``, ``records()``, ``stray()``,
    ``wait_for(...)``."""
    from checker.observe.service import ServiceLog

    _env("LAB_SERVICE_LOG")
    return ServiceLog.from_env()


@pytest.fixture(scope="session")
def service():
    """The service's instances as processes: ``service.signal("SIGTERM")``,
    ``alive()``, ``wait_exit()`` (``checker.observe.service.ServiceProcess``)."""
    from checker.observe.service import ServiceProcess

    _env("LAB_SERVICE_PIDS")
    return ServiceProcess.from_env()


@pytest.fixture(scope="session")
def locks():
    """Races forced on every run: ``locks.gate(sql, waiters=N)`` holds a lock until N
    service backends wait for it, ``locks.hold(sql)`` a blocker transaction
    (``checker.observe.locks``)."""
    from checker.observe.locks import Locks

    _env("LAB_RUN_DATABASE_URL")
    return Locks.from_env()


@pytest.fixture(scope="session")
def redis():
    import redis as redis_lib

    client = redis_lib.Redis.from_url(_env("LAB_RUN_REDIS_URL"), decode_responses=True)
    try:
        yield client
    finally:
        client.close()


def _register_sidecar_fixtures() -> None:
    """Each sidecar (``checker.sidecars``) brings its own fixture: ``sinks``,
    ``redis_link``, ``worker``..."""
    from checker.sidecars import all_sidecars

    for kind in all_sidecars():
        if kind.fixture:
            fixture = pytest.fixture(kind.provide, scope=kind.fixture_scope, name=kind.fixture)
            globals()[f"_sidecar_fixture_{kind.fixture}"] = fixture


_register_sidecar_fixtures()


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

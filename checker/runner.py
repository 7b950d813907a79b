"""One run: provision -> start the service -> run the hidden checks -> a result.

The checker never imports learner code (DESIGN.md, principle 1). The service runs as
a uvicorn process of its own (forked by the zygote when one is warm); the hidden checks
run in a pytest process with only our plugin loaded. Pytest starts first and collects
while the run is provisioned and the service boots, then waits for "go" (with the run's
URLs) on a pipe. Results stream back as JSON lines on another pipe.

Everything the run starts beside pytest (database, Redis, sidecars, the service's
instances) belongs to a ``checker.session.Session``: whatever happens (a crash, a hang,
Ctrl-C), it stops every process and drops the run's database and Redis, in reverse.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import process, sandbox
from .catalog import Lab
from .errors import LabError, RunErrorKind, RunFailed
from .migrations import MigrationFailed
from .paths import CHECKS_DIR
from .results import CheckResult, RunError, RunResult
from .session import Session, base_env, template_for
from .workspace import Workspace
from .zygote import ForkedProcess, Zygote
from .zygote import enabled as zygote_enabled

Listener = Callable[[str, Any], None]
KEEP_RUNS = 30
CHECKS_INI = CHECKS_DIR / "pytest.ini"


@dataclass
class RunOptions:
    start_timeout_s: float = 20.0  # service start-up
    checks_timeout_s: float = 120.0  # all hidden checks together
    http_timeout_s: float = 5.0  # one request of a check
    seed: int | None = None  # the probe values' seed (LAB_SEED); None: drawn per run

    @classmethod
    def from_env(cls) -> RunOptions:
        """Limits can be tightened (tests) or loosened (slow machines) from the environment."""
        opts = cls()
        for field_name, var in (
            ("start_timeout_s", "LAB_START_TIMEOUT"),
            ("checks_timeout_s", "LAB_CHECKS_TIMEOUT"),
            ("http_timeout_s", "LAB_HTTP_TIMEOUT"),
        ):
            if os.environ.get(var):
                setattr(opts, field_name, float(os.environ[var]))
        if os.environ.get("LAB_SEED", "").isdigit():
            opts.seed = int(os.environ["LAB_SEED"])
        return opts


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _new_run_dir(state: Path, lab: Lab) -> Path:
    runs = state / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    path = runs / f"{stamp}-{lab.id}-{secrets.token_hex(3)}"
    path.mkdir()
    old = sorted(p for p in runs.iterdir() if p.is_dir())[:-KEEP_RUNS]
    for p in old:
        shutil.rmtree(p, ignore_errors=True)
    return path


__all__ = ["Listener", "RunOptions", "run", "template_for"]


class _Events:
    """Reads the JSON lines the pytest plugin writes to our pipe."""

    def __init__(self, fd: int) -> None:
        self.fd, self.buffer, self.closed = fd, b"", False

    def read(self, timeout: float) -> list[dict[str, Any]]:
        if self.closed:
            time.sleep(min(timeout, 0.05))
            return []
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return []
        chunk = os.read(self.fd, 65536)
        if not chunk:
            self.closed = True
        self.buffer += chunk
        events = []
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            with contextlib.suppress(ValueError):
                events.append(json.loads(line))
        return events


class _Checks:
    """The hidden checks' pytest process: started first, it collects while the service
    starts, then waits for ``go`` (with the run's URLs) on a pipe of its own."""

    def __init__(self, lab: Lab, workspace: Workspace, env: dict[str, str], opts: RunOptions,
                 run_dir: Path, seed: int = 0, only: frozenset[str] = frozenset(),
                 zygote: Zygote | None = None) -> None:  # fmt: skip
        self.log = run_dir / "checks.log"
        events_read, events_write = os.pipe()
        go_read, self.go_fd = os.pipe()
        env = {
            **env,
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            "LAB_EVENTS_FD": str(events_write),
            "LAB_GO_FD": str(go_read),
            "LAB_WORKSPACE": str(workspace.path),
            "LAB_ID": lab.id,
            "LAB_CHECK_ORDER": ",".join(c.id for c in lab.checks),
            "LAB_ONLY_CHECKS": ",".join(sorted(only)),
            "LAB_HTTP_TIMEOUT": str(opts.http_timeout_s),
            "LAB_SERVICE_LOG": str(run_dir / "service.log"),
            "LAB_SEED": str(seed),
        }
        args = [str(lab.checks_path), "-p", "checker.pytest_plugin", "--assert=plain", "-q",
                "--no-header", "-p", "no:cacheprovider",
                # Our settings only, and no conftest.py from above the checks: a
                # project's pytest config must never leak into a check run.
                "-c", str(CHECKS_INI), "--rootdir", str(lab.checks_path.parent),
                "--confcutdir", str(lab.checks_path.parent)]  # fmt: skip
        cwd = lab.checks_path.parent
        self.via_zygote = False
        try:
            self.log.write_bytes(b"")
            if zygote is not None and zygote.ready():
                with contextlib.suppress(OSError):  # gone meanwhile: start the plain way
                    pid = zygote.run_module(
                        "pytest", args, cwd=cwd, env=env, log_path=self.log,
                        fds={"LAB_EVENTS_FD": events_write, "LAB_GO_FD": go_read},
                    )  # fmt: skip
                    self.proc = ForkedProcess(pid, zygote)
                    self.via_zygote = True
            if not self.via_zygote:
                with open(self.log, "ab") as log:
                    self.proc = subprocess.Popen(
                        [sys.executable, "-m", "pytest", *args],
                        cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                        stderr=subprocess.STDOUT, pass_fds=(events_write, go_read),
                        start_new_session=True,
                    )  # fmt: skip
        finally:
            os.close(events_write)  # the child holds its own copies now
            os.close(go_read)
        process._LIVE[self.proc.pid] = self.proc
        self.events = _Events(events_read)
        self.stopped = False

    def go(self, urls: dict[str, str]) -> None:
        self._send("go " + json.dumps(urls))

    def abort(self) -> None:
        self._send("abort")

    def _send(self, line: str) -> None:
        if self.go_fd >= 0:
            _send(self.go_fd, line)
            self.go_fd = -1

    def stop(self) -> None:
        # Its last event is sent: nothing left to wait for (not even its summary).
        if self.stopped:
            return
        self.stopped = True
        process.kill_group(self.proc, grace=0)
        for fd in (self.events.fd, self.go_fd):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)


def run(
    lab: Lab,
    workspace: Workspace,
    *,
    state: Path,
    options: RunOptions | None = None,
    listener: Listener | None = None,
    only: Collection[str] = (),
) -> RunResult:
    """Run the lab's checks against ``workspace``. ``only`` runs just those check ids
    (the self-verification's mutants); the others are reported as skipped."""
    opts = options or RunOptions.from_env()
    subset = frozenset(only)
    if unknown := subset - {c.id for c in lab.checks}:
        raise ValueError(f"not checks of {lab.id}: {sorted(unknown)}")
    emit = listener or (lambda kind, payload: None)
    t0 = time.monotonic()
    result = RunResult(lab=lab.id, target=workspace.target, started_at=_now())
    run_dir = _new_run_dir(state, lab)
    service_log = run_dir / "service.log"
    by_id = {c.id: c for c in lab.checks}
    done: dict[str, CheckResult] = {}
    session: Session | None = None
    box: sandbox.Sandbox | None = None
    result.seed = opts.seed if opts.seed is not None else secrets.randbelow(10**9)
    checks_digest = sandbox.digest(lab.checks_path, sandbox.PACKAGE)
    # The fork server of our own processes (checks, sidecars): used when warm.
    trusted = Zygote(state, trusted=True) if zygote_enabled() else None
    checks: _Checks | None = None
    try:
        with process.interrupts_raise():
            # Nothing here tells a check from a person: the service sees what
            # `lab notebook` gives (no LAB_ENV, no variable only checks set).
            env = base_env()
            checks = _Checks(lab, workspace, env, opts, run_dir, result.seed, subset, trusted)
            try:
                # Learner code runs confined, in a copy of its folder (checker/sandbox.py);
                # the session closes the sandbox (killing what is left) before the drop.
                box = sandbox.Sandbox(state=state)
                _say_missing(box, emit)
                with Session(lab, workspace.path, state=state, run_dir=run_dir, emit=emit,
                             env=env, sandbox=box) as session:  # fmt: skip
                    session.provision()
                    try:
                        took = session.start_services(opts.start_timeout_s)
                    except RunFailed as exc:
                        checks.abort()
                        result.error = RunError(exc.kind, exc.message, exc.log_tail)
                    else:
                        result.measurements["service_start_s"] = round(took, 3)
                        result.measurements["service_forked"] = session.forked()
                        emit("phase", "running checks")
                        checks.go(session.checks_env)
                        _collect(
                            result, checks, session, by_id, done, emit,
                            deadline=time.monotonic() + opts.checks_timeout_s,
                            skipped=set(by_id) - subset if subset else set(),
                        )  # fmt: skip
                        _blame_lost_services(result, done, session.checks_env)
                        crashed = session.crashed() if result.error is None else None
                        if crashed is not None:
                            result.error = RunError(crashed.kind, crashed.message,
                                                    crashed.log_tail)  # fmt: skip
                    finally:
                        checks.stop()
                        _judge_limits(result, box, session, run_dir)
            finally:
                checks.stop()
                if box is not None:
                    box.close()
    except MigrationFailed as exc:
        result.error = RunError(RunErrorKind.MIGRATIONS_FAILED, exc.message, exc.detail or "")
        _judge_limits(result, box, None, run_dir)
    except LabError as exc:
        result.error = RunError(RunErrorKind.SERVICES_UNAVAILABLE, exc.message, exc.detail or "")
    except KeyboardInterrupt:
        result.error = RunError(RunErrorKind.INTERRUPTED,
                                "The run was interrupted before it finished.")  # fmt: skip
        raise

    if sandbox.digest(lab.checks_path, sandbox.PACKAGE) != checks_digest:
        # Something rewrote the hidden checks while this run was in flight: its verdicts
        # prove nothing, and neither would the next run's.
        done.clear()
        result.error = RunError(
            RunErrorKind.CHECKS_CHANGED,
            "The checker or its hidden checks changed during this run, so it cannot be "
            "judged. Restore the checker (reinstall Backend Lab, or `git status` in the "
            "course) before checking again.",
        )
    # -- every check of the manifest gets a verdict, in manifest order ------------
    for check in lab.checks:
        got = done.get(check.id)
        if got is None and subset and check.id not in subset:
            got = CheckResult(check.id, check.title, "skip", check.points,
                              "Not run: this run checks only some of the lab's checks.")  # fmt: skip
        elif got is None:
            why = (
                "Not run: the service could not be started."
                if result.error and RunErrorKind(result.error.kind).service_not_started
                else "Not run: the check run stopped before reaching it."
            )
            got = CheckResult(check.id, check.title, "error", check.points, why)
        got.hint = check.hint_for(got.kind) if got.status in ("fail", "error") else ""
        result.checks.append(got)
    if result.error and RunErrorKind(result.error.kind).shows_service_log and session and \
            session.services:  # fmt: skip
        result.error.log_tail = process.tail(service_log)
    if trusted is not None and (checks is None or not checks.via_zygote):
        with contextlib.suppress(OSError, TimeoutError):
            trusted.start_in_background()  # for the next run (not competing with this one)
    result.duration_s = time.monotonic() - t0
    result.settle()
    (run_dir / "result.json").write_text(result.to_json())
    emit("done", result)
    return result


def _blame_lost_services(result: RunResult, done: dict[str, CheckResult],
                         urls: dict[str, str]) -> None:  # fmt: skip
    """A database or Redis that died mid-run is the run's error, said as such (never
    "a problem in Backend Lab"). Probed only when something went wrong."""
    if result.error is None and all(c.status in ("pass", "fail", "skip") for c in done.values()):
        return
    if urls.get("LAB_RUN_DATABASE_URL"):
        import psycopg

        try:
            with psycopg.connect(urls["LAB_RUN_DATABASE_URL"], connect_timeout=3) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            result.error = RunError(
                RunErrorKind.DATABASE_LOST,
                "The run's PostgreSQL database stopped answering during the checks, so the "
                "checks after that could not judge your code. What the server said: "
                f"{str(exc).strip()[:300]}",
            )
            _not_judged(done, "PostgreSQL database")
            return
    if urls.get("LAB_RUN_REDIS_URL"):
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        try:
            with redis.Redis.from_url(urls["LAB_RUN_REDIS_URL"], socket_timeout=3,
                                      socket_connect_timeout=3,
                                      retry=Retry(NoBackoff(), 0)) as client:  # fmt: skip
                client.ping()
        except redis.RedisError as exc:
            result.error = RunError(
                RunErrorKind.REDIS_LOST,
                "The run's Redis stopped answering during the checks, so the checks after "
                f"that could not judge your code. What happened: {str(exc).strip()[:300]}",
            )
            _not_judged(done, "Redis")


def _not_judged(done: dict[str, CheckResult], what: str) -> None:
    for check in done.values():
        if check.status == "error":
            check.message = f"Not judged: the run's {what} stopped answering during the run."


_SAID: set[str] = set()


def _say_missing(box: sandbox.Sandbox, emit: Listener) -> None:
    """Once per process: which protection the sandbox could not set up here."""
    for gap in box.missing:
        if gap not in _SAID:
            _SAID.add(gap)
            message = f"Not confined: this machine cannot give your code {gap}."
            print(message, file=sys.stderr, flush=True)
            emit("warning", message)


def _judge_limits(result: RunResult, box: sandbox.Sandbox | None, session: Session | None,
                  run_dir: Path) -> None:  # fmt: skip
    """Name the limit learner code hit (memory, CPU, processes), if it hit one."""
    if box is None:
        return
    spec = box.spec()
    service = session.services[0] if session is not None and session.services else None
    for name in ("service.log", "worker.log", "migrations.log"):
        log = run_dir / name
        text = process.tail(log, 60) if log.exists() else ""
        code = service.exit_code() if name == "service.log" and service else None
        hit = sandbox.limit_hit(text, code, spec)
        if hit is not None:
            kind, message = hit
            if name != "service.log":
                message = message.replace("Your service", f"Your {name.split('.')[0]}")
            result.error = RunError(kind, message, text)
            return


def _send(fd: int, line: str) -> None:
    with contextlib.suppress(OSError):
        os.write(fd, (line + "\n").encode())
    with contextlib.suppress(OSError):
        os.close(fd)


def _collect(result, checks, session, by_id, done, emit, *, deadline, skipped=()) -> None:
    events, proc = checks.events, checks.proc
    collected: list[str] | None = None
    finished = False
    while not finished:
        try:
            session.check_services()
        except process.StartFailed as exc:
            result.error = RunError(exc.kind, exc.message, exc.log_tail)
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            result.error = RunError(
                RunErrorKind.TIMEOUT,
                "The checks did not finish in time: your service may be hanging on a request.",
            )
            return
        for ev in events.read(min(remaining, 0.2)):
            kind = ev.get("event")
            if kind == "collected":
                collected = ev["checks"]
            elif kind == "check":
                cid = ev["id"]
                check = by_id.get(cid)
                if check is None:
                    continue  # a test not declared in lab.toml: ignored (catalog tests flag it)
                cr = CheckResult(
                    id=cid,
                    title=check.title,
                    status=ev["status"],
                    points=check.points,
                    message=ev.get("message", ""),
                    kind=ev.get("kind", ""),
                    duration_s=ev.get("duration_s", 0.0),
                    bonus=check.bonus,
                )
                done[cid] = cr
                if ev.get("measurements"):
                    result.measurements[cid] = ev["measurements"]
                emit("check", cr)
            elif kind == "progress":
                emit("progress", str(ev.get("message", "")))
            elif kind == "done":
                finished = True
        if events.closed and proc.poll() is not None:
            finished = True
    if collected is None or not all(cid in done for cid in collected):
        result.error = RunError(
            RunErrorKind.CHECKS_CRASHED,
            "The hidden checks could not start. This is a problem in Backend Lab, not in "
            f"your code: please report it (details in {checks.log}).",
        )
    else:
        for cid in by_id:
            if cid not in collected and cid not in done and cid not in skipped:
                done[cid] = CheckResult(
                    cid, by_id[cid].title, "error", by_id[cid].points,
                    "This check has no hidden test in this version of Backend Lab.",
                )  # fmt: skip

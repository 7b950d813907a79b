"""One run: provision -> start the service -> run the hidden checks -> a result.

The checker never imports learner code (DESIGN.md, principle 1). The service runs as
a uvicorn process of its own (forked by the zygote when one is warm); the hidden checks
run in a pytest process with only our plugin loaded. Pytest starts first and collects
while the run is provisioned and the service boots, then waits for "go" (with the run's
URLs) on a pipe. Results stream back as JSON lines on another pipe.

Whatever happens (a crash, a hang, Ctrl-C), ``_Resources.close`` stops both process
groups, drops the run's database and flushes its Redis database.
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

from . import faults, process, sinks, workers
from .catalog import Lab
from .errors import LabError
from .migrations import MigrationFailed, migrated_template
from .paths import CHECKS_DIR
from .results import CheckResult, RunError, RunResult
from .services import providers
from .services.databases import (
    TEMPLATE_PREFIX,
    create_run_database,
    drop_database,
    drop_stale_runs,
    ensure_template,
    fingerprint,
)
from .services.redis_lease import RedisLease
from .workspace import Workspace
from .zygote import Zygote
from .zygote import enabled as zygote_enabled

Listener = Callable[[str, Any], None]
KEEP_RUNS = 30
CHECKS_INI = CHECKS_DIR / "pytest.ini"


@dataclass
class RunOptions:
    start_timeout_s: float = 20.0  # service start-up
    checks_timeout_s: float = 120.0  # all hidden checks together
    http_timeout_s: float = 5.0  # one request of a check

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


def template_for(lab: Lab) -> tuple[str, list[str]]:
    """The template database's name and the SQL that builds it (from the trusted checks)."""
    sql = [(lab.checks_path / rel).read_text(encoding="utf-8") for rel in lab.template_sql]
    name = f"{TEMPLATE_PREFIX}{lab.checks_package}_{fingerprint(*sql)}"
    return name, sql


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
                 run_dir: Path, only: frozenset[str] = frozenset()) -> None:  # fmt: skip
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
        }
        try:
            with open(self.log, "wb") as log:
                self.proc = subprocess.Popen(
                    [sys.executable, "-m", "pytest", str(lab.checks_path),
                     "-p", "checker.pytest_plugin", "--assert=plain", "-q", "--no-header",
                     "-p", "no:cacheprovider",
                     # Our settings only, and no conftest.py from above the checks: a
                     # project's pytest config must never leak into a check run.
                     "-c", str(CHECKS_INI), "--rootdir", str(lab.checks_path.parent),
                     "--confcutdir", str(lab.checks_path.parent)],
                    cwd=lab.checks_path.parent, env=env, stdin=subprocess.DEVNULL,
                    stdout=log, stderr=subprocess.STDOUT, pass_fds=(events_write, go_read),
                    start_new_session=True,
                )  # fmt: skip
        finally:
            os.close(events_write)  # the child holds its own copies now
            os.close(go_read)
        process._LIVE[self.proc.pid] = self.proc
        self.events = _Events(events_read)

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
        process.kill_group(self.proc, grace=0)
        for fd in (self.events.fd, self.go_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


class _Resources:
    """What a run holds, released in ``close`` whatever happened."""

    def __init__(self) -> None:
        self.checks: _Checks | None = None
        self.service: process.Service | None = None
        self.admin_url: str | None = None
        self.db_name: str | None = None
        self.lease: RedisLease | None = None
        self.sinks: sinks.Launched | None = None
        self.worker: workers.Launched | None = None
        self.redis_proxy: faults.Launched | None = None

    def close(self) -> None:
        if self.checks is not None:
            self.checks.stop()
        if self.worker is not None:
            self.worker.stop()
        if self.service is not None:
            self.service.stop()
        if self.sinks is not None:
            self.sinks.stop()
        if self.redis_proxy is not None:
            self.redis_proxy.stop()
        if self.admin_url and self.db_name:
            drop_database(self.admin_url, self.db_name)
        if self.lease is not None:
            self.lease.release()
        svc = self.service
        if svc is not None and svc.zygote is not None and not svc.via_zygote:
            # Started the slow way: have a fork server ready for the next run (started
            # only now, so it never competes with this run for the CPU).
            svc.zygote.start_in_background()


def _base_env() -> dict[str, str]:
    """The environment our children start from: the user's, minus what we set."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("LAB_") and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1", LAB_ENV="check")
    return env


def _provision(lab: Lab, state: Path, res: _Resources, emit: Listener,
               migrate: Callable[[str, str], str] | None = None) -> dict[str, str]:  # fmt: skip
    """A fresh database and Redis namespace for this run; returns the URLs, by the names
    the service (DATABASE_URL, REDIS_URL) and the checks (LAB_RUN_...) know them.
    ``migrate(admin_url, template)`` gives the template with the lab's migrations."""
    prov = providers(state)
    urls: dict[str, str] = {}
    if "postgres" in lab.services:
        emit("phase", "PostgreSQL")
        res.admin_url = prov.postgres.ensure()
        drop_stale_runs(res.admin_url)
        name, sql = template_for(lab)
        ensure_template(res.admin_url, name, sql, on_progress=lambda m: emit("phase", m))
        if migrate is not None:
            name = migrate(res.admin_url, name)
        res.db_name, db_url = create_run_database(res.admin_url, name, lab.id)
        urls.update(DATABASE_URL=db_url, LAB_RUN_DATABASE_URL=db_url,
                    LAB_ADMIN_DATABASE_URL=res.admin_url)  # fmt: skip
    if {"redis", "worker"} & set(lab.services):
        emit("phase", "Redis")
        res.lease = RedisLease(prov.redis.ensure())
        redis_url = res.lease.acquire()
        urls.update(REDIS_URL=redis_url, LAB_RUN_REDIS_URL=redis_url)
    return urls


def _sink_urls(lab: Lab, res: _Resources, emit: Listener) -> dict[str, str]:
    """The provider sinks' URLs: the service and its worker find each as
    ``<NAME>_PROVIDER_URL``, the checks all of them in ``LAB_SINKS`` (JSON)."""
    if res.sinks is None:
        return {}
    emit("phase", "provider sinks")
    by_name = res.sinks.urls()
    urls = {sinks.env_var(name): url for name, url in by_name.items()}
    return {**urls, "LAB_SINKS": json.dumps(by_name)}


def _start_service(service: process.Service, lab: Lab, opts: RunOptions) -> float:
    """Start and wait until healthy; returns the seconds it took (raises StartFailed)."""
    service.start()
    for retries_left in (2, 1, 0):
        try:
            return service.wait_healthy(lab.health, opts.start_timeout_s)
        except process.StartFailed:
            if not (retries_left and service.port_was_taken()):
                raise
            # Another program took the free port we picked: pick another one.
            service.stop()
            service.log_path.write_bytes(b"")
            service.start()
    raise AssertionError("unreachable")


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
    res = _Resources()
    try:
        with process.interrupts_raise():
            env = _base_env()
            res.checks = _Checks(lab, workspace, env, opts, run_dir, subset)
            migrate = None
            if lab.migrations:

                def migrate(admin_url: str, base: str) -> str:
                    return migrated_template(
                        admin_url, base, workspace.path, lab.migrations, env,
                        run_dir / "migrations.log", lambda m: emit("phase", m),
                    )  # fmt: skip

            if lab.sinks:  # they boot while the database is provisioned
                res.sinks = sinks.Launched(lab.sinks, run_dir=run_dir, env=env)
            urls = _provision(lab, state, res, emit, migrate)
            urls.update(_sink_urls(lab, res, emit))
            if "redis" in lab.faults:  # the service reaches Redis through a proxy we can cut
                res.redis_proxy = faults.Launched(urls["REDIS_URL"], run_dir=run_dir, env=env)
                urls["REDIS_URL"], urls["LAB_REDIS_PROXY_URL"] = res.redis_proxy.urls()
            emit("phase", "starting your service")
            service_env = {**env, **{k: v for k, v in urls.items() if not k.startswith("LAB_")}}
            if "worker" in lab.services:  # it boots while the service starts
                res.worker = workers.Launched(
                    queues=lab.worker_queues, imports=lab.worker_imports, cwd=workspace.path,
                    env=service_env, run_dir=run_dir,
                )  # fmt: skip
                urls["LAB_WORKER_URL"] = res.worker.url()
            res.service = process.Service(
                lab.app, cwd=workspace.path, env=service_env, log_path=service_log,
                zygote=Zygote(state) if zygote_enabled() else None,
            )  # fmt: skip
            try:
                took = _start_service(res.service, lab, opts)
                if res.worker is not None:
                    res.worker.wait_ready(opts.start_timeout_s)
            except process.StartFailed as exc:
                res.checks.abort()
                result.error = RunError(exc.kind, exc.message, exc.log_tail)
            else:
                result.measurements["service_start_s"] = round(took, 3)
                result.measurements["service_forked"] = res.service.via_zygote
                emit("phase", "running checks")
                res.checks.go({**urls, "LAB_SERVICE_URL": res.service.url})
                _collect(
                    result, res.checks, res.service, by_id, done, emit,
                    deadline=time.monotonic() + opts.checks_timeout_s,
                    skipped=set(by_id) - subset if subset else set(),
                )  # fmt: skip
                if result.error is None and not res.service.alive():
                    code = res.service.exit_code()
                    result.error = RunError(
                        "service_crashed",
                        f"Your service stopped during the checks (exit code {code}), so the "
                        "checks after that could not judge it. The log below shows why.",
                        process.tail(service_log),
                    )
    except MigrationFailed as exc:
        result.error = RunError("migrations_failed", exc.message, exc.detail or "")
    except LabError as exc:
        result.error = RunError("services_unavailable", exc.message, exc.detail or "")
    except KeyboardInterrupt:
        result.error = RunError("interrupted", "The run was interrupted before it finished.")
        raise
    finally:
        res.close()

    # -- every check of the manifest gets a verdict, in manifest order ------------
    for check in lab.checks:
        got = done.get(check.id)
        if got is None and subset and check.id not in subset:
            got = CheckResult(check.id, check.title, "skip", check.points,
                              "Not run: this run checks only some of the lab's checks.")  # fmt: skip
        elif got is None:
            why = (
                "Not run: the service could not be started."
                if result.error and result.error.kind.startswith("service")
                else "Not run: the check run stopped before reaching it."
            )
            got = CheckResult(check.id, check.title, "error", check.points, why)
        got.hint = check.hint if got.status in ("fail", "error") else ""
        result.checks.append(got)
    if result.error and result.error.kind in ("timeout", "checks_crashed") and res.service:
        result.error.log_tail = process.tail(service_log)
    result.duration_s = time.monotonic() - t0
    result.settle()
    (run_dir / "result.json").write_text(result.to_json())
    emit("done", result)
    return result


def _send(fd: int, line: str) -> None:
    with contextlib.suppress(OSError):
        os.write(fd, (line + "\n").encode())
    with contextlib.suppress(OSError):
        os.close(fd)


def _collect(result, checks, service, by_id, done, emit, *, deadline, skipped=()) -> None:
    events, proc = checks.events, checks.proc
    collected: list[str] | None = None
    finished = False
    while not finished:
        try:
            service.check_log_size()
        except process.StartFailed as exc:
            result.error = RunError(exc.kind, exc.message, exc.log_tail)
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            result.error = RunError(
                "timeout",
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
            "checks_crashed",
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

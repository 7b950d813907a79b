"""The learner's processes: started in a process group of their own, waited on until
healthy (or dead, or out of time), logged to a file, and killed as a group.

Every group started here is remembered until stopped, so an interrupted command
(Ctrl-C, SIGTERM, an exception) still kills what it started: see ``kill_all``.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from . import sandbox
from .errors import StartFailed
from .services.base import free_port, tail
from .zygote import ForkedProcess, Zygote

_LIVE: dict[int, subprocess.Popen] = {}

#: A service that writes more log than this is stopped (a print in a loop fills a disk).
LOG_LIMIT_BYTES = int(os.environ.get("LAB_LOG_LIMIT_MB", "20")) * 1024 * 1024


class ManagedProcess:
    """A child process in its own session (so its whole group can be killed)."""

    def __init__(
        self, args: Sequence[str], *, cwd: Path, env: dict[str, str], log_path: Path,
        trusted: bool = False,
    ) -> None:  # fmt: skip
        """``trusted``: our own code (a supervisor that confines what it starts itself),
        started outside the run's sandbox."""
        self.args, self.cwd, self.env, self.log_path = list(args), cwd, env, log_path
        self.trusted = trusted
        self.proc: subprocess.Popen | ForkedProcess | None = None

    def adopt(self, proc: ForkedProcess) -> ManagedProcess:
        """Track a process started elsewhere (the zygote) in its own session."""
        self.proc = proc
        _LIVE[proc.pid] = proc
        return self

    def start(self, memory_mb: int | None = None, zygote: Zygote | None = None) -> ManagedProcess:
        """Start it; under the run's sandbox when ``env`` names one (``LAB_SANDBOX``):
        its PID namespace, uid and limits (then ``memory_mb`` is the sandbox's). A
        trusted ``python -m`` process is forked by the trusted ``zygote`` when it is warm."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        module_run = self.args[:2] == [sys.executable, "-m"] and len(self.args) > 2
        if self.trusted and zygote is not None and module_run and memory_mb is None:
            with contextlib.suppress(OSError):  # gone meanwhile: start the plain way
                if zygote.ready():
                    pid = zygote.run_module(self.args[2], self.args[3:], cwd=self.cwd,
                                            env=self.env, log_path=self.log_path)  # fmt: skip
                    return self.adopt(ForkedProcess(pid, zygote))
        if self.trusted:
            args, env, confine = self.args, self.env, None
        else:
            args, env, confine = sandbox.wrap(self.args, self.env)
        if confine is None and memory_mb:
            confine = lambda: limit_memory(memory_mb)  # noqa: E731
        with open(self.log_path, "ab") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                args,
                cwd=self.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=confine,
            )
        _LIVE[self.proc.pid] = self.proc
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, grace: float = 2.0) -> None:
        if self.proc is None:
            return
        kill_group(self.proc, grace)


def kill_group(proc: subprocess.Popen | ForkedProcess, grace: float = 2.0) -> None:
    """SIGTERM the group, wait ``grace`` seconds, then SIGKILL whatever is left
    (with no grace, SIGKILL at once)."""
    pgid = proc.pid  # start_new_session: the leader's pid is the group id
    if grace > 0:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if proc.poll() is not None and not _group_alive(pgid):
            break
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(proc.pid, signal.SIGKILL)  # in case it had not made its own group yet
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)
    _LIVE.pop(proc.pid, None)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def kill_all() -> None:
    for proc in list(_LIVE.values()):
        kill_group(proc, grace=0.5)


atexit.register(kill_all)


@contextlib.contextmanager
def interrupts_raise():
    """Turn SIGTERM (and SIGHUP) into KeyboardInterrupt while a run is in flight, so the
    ``finally`` blocks that stop processes and drop databases run on any interruption."""

    def handler(signum, frame):
        raise KeyboardInterrupt

    old = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError):  # not the main thread
            old[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)


def memory_limit_mb() -> int | None:
    """The address-space limit for the learner's service (``LAB_SERVICE_MEMORY_MB``,
    set by `lab grade`), or None: no limit."""
    value = os.environ.get("LAB_SERVICE_MEMORY_MB", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


def limit_memory(mb: int | None) -> None:
    """In the service's process: cap its address space (RLIMIT_AS) at ``mb`` MiB."""
    if mb:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (mb << 20, mb << 20))


class Service:
    """The learner's ASGI app, served by uvicorn on a free port of 127.0.0.1."""

    def __init__(
        self,
        app: str,
        *,
        cwd: Path,
        env: dict[str, str],
        log_path: Path,
        zygote: Zygote | None = None,
    ) -> None:
        self.app, self.cwd, self.env, self.log_path = app, cwd, env, log_path
        self.zygote = zygote
        self.port = 0
        self.process: ManagedProcess | None = None
        self.via_zygote = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Service:
        self.port = free_port()
        uvicorn_args = [
            self.app, "--host", "127.0.0.1", "--port", str(self.port),
            "--log-level", "warning", "--timeout-graceful-shutdown", "1",
        ]  # fmt: skip
        args = [sys.executable, "-m", "uvicorn", *uvicorn_args]
        self.process = ManagedProcess(args, cwd=self.cwd, env=self.env, log_path=self.log_path)
        z = self.zygote
        if z is not None and z.ready():
            try:
                self.log_path.parent.mkdir(parents=True, exist_ok=True)
                pid = z.spawn(uvicorn_args, cwd=self.cwd, env=self.env, log_path=self.log_path,
                              memory_mb=memory_limit_mb())  # fmt: skip
                self.process.adopt(ForkedProcess(pid, z))
                self.via_zygote = True
                return self
            except OSError:
                pass  # the zygote went away: start the plain way
        self.process.start(memory_mb=memory_limit_mb())
        return self

    def wait_healthy(self, path: str, timeout: float) -> float:
        """Poll ``path`` until it answers below 500; returns the seconds it took."""
        import httpx

        assert self.process is not None
        t0 = time.monotonic()
        deadline = t0 + timeout
        last = ""
        with httpx.Client(timeout=2.0) as client:
            while True:
                self.check_log_size()
                if not self.process.alive():
                    code = self.process.proc.returncode if self.process.proc else None
                    raise StartFailed(
                        "service_start_failed",
                        f"Your service exited during start-up (exit code {code}) before it "
                        "answered a request. The log below shows why.",
                        tail(self.log_path),
                    )
                try:
                    r = client.get(self.url + path)
                    if r.status_code < 500:
                        return time.monotonic() - t0
                    last = f"{path} answered {r.status_code}"
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    why = f" (the last answer: {last})" if last else ""
                    raise StartFailed(
                        "service_unhealthy",
                        f"Your service did not become healthy within {timeout:.0f} s{why}. "
                        "Start-up may be stuck (a blocking call, a loop, waiting on something).",
                        tail(self.log_path),
                    )
                time.sleep(0.03)

    def alive(self) -> bool:
        return self.process is not None and self.process.alive()

    def exit_code(self) -> int | None:
        proc = self.process.proc if self.process else None
        return proc.poll() if proc is not None else None

    def port_was_taken(self) -> bool:
        """Did it fail only because another process grabbed its port meanwhile?"""
        return "address already in use" in tail(self.log_path, 5).lower()

    def check_log_size(self) -> None:
        """Stop a service flooding its log, before it fills the disk."""
        try:
            size = self.log_path.stat().st_size
        except OSError:
            return
        if size > LOG_LIMIT_BYTES:
            self.stop()
            raise StartFailed(
                "log_flood",
                f"Your service wrote more than {LOG_LIMIT_BYTES // 2**20} MB of log output, "
                "so it was stopped. Is something printing in a loop?",
                tail(self.log_path, 10),
            )

    def stop(self, grace: float = 0.0) -> None:
        """Kill the service's process group. No grace by default: a checked service has
        nothing to flush, and waiting on a graceful shutdown only slows every check."""
        if self.process is not None:
            self.process.stop(grace)

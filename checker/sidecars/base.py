"""What every sidecar shares: a child process with a port-file handshake and a JSON
control channel, stopped with the run.

Two halves, in one module because they agree on one file format:

* **the sidecar's own process** (``python -m checker.sidecars.NAME``) binds its ports,
  then calls :func:`announce` to write them, as JSON, atomically into the port file the
  runner named; its control API is a :class:`ControlHandler` (JSON in, JSON out);
* **the runner's side**: a :class:`Sidecar` subclass says only what is different (its
  manifest key, the processes it spawns, the environment it exports, its pytest
  fixture); :class:`Helper` spawns one process and waits for its handshake.

This half of the file imports the standard library only, so a sidecar process starts
in a few tens of milliseconds. Nothing here knows a lab's checks or the learner's code.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

# ---------------------------------------------------------------- the sidecar process


def announce(port_file: Path, **ports: int) -> None:
    """Tell the runner we listen: ``{"control": 5001, ...}`` written atomically."""
    tmp = port_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(ports))
    os.replace(tmp, port_file)


class ControlHandler(BaseHTTPRequestHandler):
    """A quiet HTTP/1.1 handler that speaks JSON: ``send(status, payload)``, ``json_body()``."""

    protocol_version = "HTTP/1.1"
    # TCP_NODELAY: headers and body are two writes; with Nagle's algorithm the body waits
    # for the caller's delayed ACK (40 ms on Linux), an artifact in every timing seen.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # a sidecar logs what matters itself, one line per event

    def send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        with contextlib.suppress(OSError):  # the caller may have given up (a timeout)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

    def raw_body(self, limit: int = 1_000_000) -> bytes:
        length = min(int(self.headers.get("Content-Length") or 0), limit)
        return self.rfile.read(length) if length > 0 else b""

    def json_body(self) -> Any:
        raw = self.raw_body()
        try:
            return json.loads(raw) if raw else {}
        except ValueError:
            return {}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The listen backlog. socketserver's default, 5, overflows when 20 calls arrive at
    # once (a check racing requests through a sink): a caller's connection was reset.
    request_queue_size = 128


def control_server(handler: type[BaseHTTPRequestHandler], port: int = 0) -> ThreadingHTTPServer:
    return _Server(("127.0.0.1", port), handler)


def serve_in_background(server: ThreadingHTTPServer) -> None:
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.5}, daemon=True
    ).start()


# ---------------------------------------------------------------- the runner's side


class SidecarFailed(Exception):
    """A sidecar did not start: a problem in Backend Lab, never in the learner's code.
    The runner turns it into ``ServiceError`` (exit 2)."""

    def __init__(self, message: str, log_tail: str = "") -> None:
        super().__init__(message)
        self.message, self.log_tail = message, log_tail


def poll(ready: Callable[[], Any], *, timeout: float, every: float = 0.01,
         alive: Callable[[], bool] = lambda: True) -> Any:  # fmt: skip
    """Call ``ready`` until it returns something other than None; None once ``alive``
    says no or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while True:
        got = ready()
        if got is not None:
            return got
        if not alive() or time.monotonic() > deadline:
            return None
        time.sleep(every)


class Helper:
    """One sidecar process: spawned at once, its handshake awaited only when needed (so
    it boots while the run does other work)."""

    def __init__(self, label: str, module: str, args: list[str], *, cwd: Path,
                 env: dict[str, str], run_dir: Path, stem: str,
                 zygote: Any = None) -> None:  # fmt: skip
        from .. import process

        self.label, self.stem = label, stem
        self.port_file = run_dir / f"{stem}.port"
        self.log_path = run_dir / f"{stem}.log"
        self.port_file.unlink(missing_ok=True)
        argv = [sys.executable, "-m", module, *args, "--port-file", str(self.port_file)]
        # Our own code: never in the run's sandbox (a supervisor confines what it starts).
        self.proc = process.ManagedProcess(
            argv, cwd=cwd, env=env, log_path=self.log_path, trusted=True
        )
        self.proc.start(zygote=zygote)
        self._ports: dict[str, int] | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def ports(self, timeout: float = 10.0) -> dict[str, int]:
        """The ports it announced (raises SidecarFailed if it died or never did)."""
        if self._ports is None:

            def read() -> dict[str, int] | None:
                with contextlib.suppress(OSError, ValueError):
                    return json.loads(self.port_file.read_text())
                return None

            self._ports = poll(read, timeout=timeout, alive=self.proc.alive)
            if self._ports is None:
                raise SidecarFailed(
                    f"The {self.label} did not start. This is a problem in Backend Lab, "
                    "not in your code: please report it.",
                    self.log_tail(),
                )
        return self._ports

    def url(self, name: str = "control", timeout: float = 10.0) -> str:
        return f"http://127.0.0.1:{self.ports(timeout)[name]}"

    def log_tail(self, lines: int = 30) -> str:
        from ..services.base import tail

        return tail(self.log_path, lines)

    def stop(self, grace: float = 0.0) -> None:
        self.proc.stop(grace=grace)


@dataclass
class Exports:
    """What a sidecar adds to the run: ``service`` environment (the learner's service and
    worker see it) and ``checks`` environment (the hidden checks' process only)."""

    service: dict[str, str] = field(default_factory=dict)
    checks: dict[str, str] = field(default_factory=dict)


@dataclass
class Context:
    """What a sidecar gets to start with: the run's folder, the learner's workspace, and
    the environment the service will get (with every URL known so far)."""

    lab: Any  # checker.catalog.Lab
    run_dir: Path
    workspace: Path
    env: dict[str, str]
    #: the fork server of the checker's own processes (checker.zygote), when warm
    zygote: Any = None
    #: the fork server of the learner's services (the confined one): the worker's
    #: supervisor asks it for the worker, when warm
    learner_zygote: Any = None


class Sidecar:
    """One kind of helper process. A subclass says only what is different:

    ``key``      the lab.toml key that asks for it (documentation and errors);
    ``early``    start before the database is provisioned (it needs no run URL);
    ``order``    where it starts among the others (lower first);
    ``fixture``  the pytest fixture the checks use: its name, ``fixture_scope``, and
                 ``provide`` (a function, or a generator, run in the checks' process,
                 which sees only the environment ``exports`` put in ``checks``).
    """

    key: ClassVar[str]
    order: ClassVar[int] = 50
    early: ClassVar[bool] = False
    fixture: ClassVar[str | None] = None
    fixture_scope: ClassVar[str] = "function"
    phase: ClassVar[str | None] = None  # what the progress line says while we wait for it
    #: Runs the learner's code (the worker): must be confined like the service itself.
    learner_code: ClassVar[bool] = False

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.helpers: list[Helper] = []

    @classmethod
    def wanted(cls, lab: Any) -> bool:
        """Does this lab ask for it? (Default: a non-empty ``key`` field.)"""
        return bool(getattr(lab, cls.key, None))

    def spawn(self, label: str, module: str, args: list[str], *, stem: str,
              cwd: Path | None = None, env: dict[str, str] | None = None) -> Helper:  # fmt: skip
        helper = Helper(label, module, args, cwd=cwd or self.ctx.run_dir,
                        env=env if env is not None else self.ctx.env,
                        run_dir=self.ctx.run_dir, stem=stem, zygote=self.ctx.zygote)  # fmt: skip
        self.helpers.append(helper)
        return helper

    def start(self) -> None:
        """Spawn the processes (do not wait for them)."""
        raise NotImplementedError

    def exports(self) -> Exports:
        """Wait for the handshakes; what the service and the checks get."""
        raise NotImplementedError

    def wait_ready(self, timeout: float) -> None:
        """After the service started: wait until the sidecar's own work is ready
        (a learner's worker registered). Raises ``process.StartFailed``."""

    def stop(self) -> None:
        for helper in reversed(self.helpers):
            helper.stop()

    @staticmethod
    def provide() -> Any:  # pragma: no cover - overridden when ``fixture`` is set
        raise NotImplementedError


def checks_env(name: str) -> str:
    """In the checks' process: a variable a sidecar exported, or a clear error."""
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: hidden checks run under `lab check`")
    return value

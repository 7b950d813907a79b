"""A fork server that makes the learner's service start fast.

Starting the service is mostly importing fastapi, pydantic, SQLAlchemy and uvicorn
(about half a second). The zygote is a long-lived process that imports those libraries
once (never learner code) and forks a fresh child for each run; the child sets the run's
environment and working directory, starts a new session (so the runner can kill its
whole process group, as with any service), and only then imports the learner's app
through uvicorn. The checker process itself still never imports learner code.

Safety and lifetime:
* the socket is a file under ``.lab/`` (mode 0600 in a 0700 folder), so only this user
  can ask for a fork; if the path is too long for a unix socket, no zygote is used;
* it is started in the background on first use and reused while its fingerprint
  (interpreter, installed packages, this file) matches; ``lab services down`` stops it;
* ``LAB_ZYGOTE=0`` turns it off (services then start with a plain ``python -m uvicorn``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
from pathlib import Path

from . import sandbox

PRELOAD = (
    "fastapi", "fastapi.routing", "fastapi.responses", "starlette.applications", "pydantic",
    "pydantic_settings", "sqlmodel", "sqlalchemy", "sqlalchemy.dialects.postgresql.psycopg",
    "sqlalchemy.orm", "psycopg", "psycopg_pool", "redis", "rq", "uvicorn", "uvicorn.main",
    "uvicorn.config", "uvicorn.server", "uvicorn.protocols.http.h11_impl",
    "uvicorn.protocols.http.httptools_impl", "uvicorn.lifespan.on", "uvicorn.loops.auto",
    "anyio", "anyio._backends._asyncio", "h11", "email_validator", "multipart", "jwt",
)  # fmt: skip
MAX_SOCKET_PATH = 100


def fingerprint() -> str:
    site = Path(sysconfig.get_paths()["purelib"])
    # sys.prefix, not sys.executable: `lab` (python3) and `python -m checker` share one.
    ours = [Path(__file__), Path(sandbox.__file__)]  # what the server and its children run
    parts = [sys.prefix, str(site.stat().st_mtime_ns), *(str(p.stat().st_mtime_ns) for p in ours)]
    return "|".join(parts)


def enabled() -> bool:
    # Linux only: on macOS, forking a process that has loaded system frameworks is unsafe.
    return os.environ.get("LAB_ZYGOTE", "1") != "0" and sys.platform == "linux"


class Zygote:
    """The runner's side: find (or start) the zygote, ask it for a service process."""

    def __init__(self, state: Path) -> None:
        self.dir = state / "zygote"
        self.sock = self.dir / "zygote.sock"
        self.log = self.dir / "zygote.log"
        self.pidfile = self.dir / "zygote.pid"

    def usable(self) -> bool:
        return enabled() and len(str(self.sock)) <= MAX_SOCKET_PATH

    def _request(self, payload: dict, timeout: float = 5.0) -> dict:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(str(self.sock))
            s.sendall(json.dumps(payload).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        return json.loads(data or b"{}")

    def ready(self) -> bool:
        """True if a zygote for this installation answers."""
        if not self.usable() or not self.sock.exists():
            return False
        try:
            return self._request({"op": "hello"}, timeout=1.0).get("fingerprint") == fingerprint()
        except (OSError, ValueError):
            return False

    def _recorded(self) -> tuple[int, str] | None:
        try:
            pid, mark = self.pidfile.read_text().split(" ", 1)
            os.kill(int(pid), 0)
            return int(pid), mark
        except (OSError, ValueError):
            return None

    def start_in_background(self) -> None:
        """Start a zygote for later runs, unless one for this installation is already
        running or starting; never waits for it."""
        if not self.usable():
            return
        from .services.base import file_lock

        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o700)
        with file_lock(self.dir / "zygote.lock", timeout=10):
            recorded = self._recorded()
            if recorded and recorded[1] == fingerprint():
                return  # running or still importing: the next run will use it
            self.stop(wait=False)
            with open(self.log, "ab") as log:
                proc = subprocess.Popen(
                    [*sandbox.zygote_prefix(self.dir / "mnt"), sys.executable, "-m",
                     "checker.zygote", str(self.dir)],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True, cwd=self.dir, env=_server_env(),
                )  # fmt: skip
            self.pidfile.write_text(f"{proc.pid} {fingerprint()}")
        # Reap it whenever it ends, so a long-lived caller (a notebook kernel, a test
        # session) keeps no zombie that would still look alive.
        threading.Thread(target=proc.wait, daemon=True).start()

    def spawn(self, args: list[str], *, cwd: Path, env: dict[str, str], log_path: Path,
              memory_mb: int | None = None) -> int:  # fmt: skip
        """Fork a service; under the run's sandbox (``LAB_SANDBOX`` in ``env``) the child
        takes the run's uid and limits before it imports any learner code."""
        spec = sandbox.Spec.from_env(env)
        reply = self._request(
            {
                "op": "spawn",
                "args": args,
                "cwd": str(cwd),
                "env": spec.learner_env(env) if spec else env,
                "log": str(log_path),
                "memory_mb": memory_mb,
                "sandbox": spec.to_env() if spec else None,
            }  # fmt: skip
        )
        if "pid" not in reply:
            raise OSError(reply.get("error", "the zygote did not start the service"))
        return int(reply["pid"])

    def exit_code(self, pid: int) -> int | None:
        try:
            return int((self.dir / "exits" / str(pid)).read_text())
        except (OSError, ValueError):
            return None

    def stop(self, wait: bool = True) -> bool:
        """Stop the zygote; with ``wait``, return only once it is gone."""
        stopped = False
        recorded = self._recorded()
        if recorded:
            with contextlib.suppress(OSError):
                os.kill(recorded[0], signal.SIGTERM)
                stopped = True
            deadline = time.monotonic() + (5 if wait else 0)
            while time.monotonic() < deadline:
                try:
                    os.kill(recorded[0], 0)
                except ProcessLookupError:
                    break
                time.sleep(0.02)
        self.pidfile.unlink(missing_ok=True)
        self.sock.unlink(missing_ok=True)
        return stopped


def _server_env() -> dict[str, str]:
    """The zygote's own environment: only what Python needs. Its children get the run's
    environment from the request, but the block it was started with stays in their
    memory: it must hold nothing of the caller's (admin URLs, LAB_* settings)."""
    keep = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "PYTHONPATH", "VIRTUAL_ENV", "TZ")
    return {k: os.environ[k] for k in keep if k in os.environ}


class ForkedProcess:
    """A service process the zygote forked: enough of Popen's interface for the runner."""

    def __init__(self, pid: int, zygote: Zygote) -> None:
        self.pid, self.zygote = pid, zygote
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is not None:
            return self.returncode
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            # The zygote reaped it; its exit code lands in a file a moment later.
            for _ in range(20):
                code = self.zygote.exit_code(self.pid)
                if code is not None:
                    break
                time.sleep(0.005)
            self.returncode = code if code is not None else -1
            return self.returncode
        except PermissionError:
            return None
        return None

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.01)
        return self.returncode  # type: ignore[return-value]


# ----------------------------------------------------------------- the server


def _reap(exits: Path) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        code = os.waitstatus_to_exitcode(status)
        tmp = exits / f".{pid}"
        tmp.write_text(str(code))
        tmp.rename(exits / str(pid))


def _child(req: dict) -> None:
    """In the forked child: become the learner's service. Never returns."""
    code = 1
    try:
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        log = os.open(req["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(devnull, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.closerange(3, 65536)
        os.chdir(req["cwd"])
        if req.get("sandbox"):
            # The run's uid and limits, for good, before any learner code is imported.
            sandbox.Spec(**json.loads(req["sandbox"])).become()
        elif req.get("memory_mb"):
            import resource

            mb = int(req["memory_mb"])
            resource.setrlimit(resource.RLIMIT_AS, (mb << 20, mb << 20))
        os.environ.clear()
        os.environ.update(req["env"])
        sys.dont_write_bytecode = bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))
        sys.path[0] = req["cwd"]
        sys.argv = ["uvicorn", *req["args"]]
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        import uvicorn.main

        try:
            uvicorn.main.main(prog_name="uvicorn")
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def serve(home: Path) -> None:
    import importlib

    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    exits = home / "exits"
    exits.mkdir(parents=True, exist_ok=True)
    for old in exits.iterdir():
        old.unlink(missing_ok=True)
    sock_path = home / "zygote.sock"
    sock_path.unlink(missing_ok=True)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o077)
    try:
        server.bind(str(sock_path))
    finally:
        os.umask(old_umask)
    server.listen(16)
    server.settimeout(0.5)
    inode = sock_path.stat().st_ino
    signal.signal(signal.SIGCHLD, lambda *_: _reap(exits))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    me = fingerprint()
    print(f"zygote {os.getpid()} ready on {sock_path}", flush=True)
    try:
        while True:
            try:
                conn, _ = server.accept()
            except TimeoutError:
                try:
                    if sock_path.stat().st_ino != inode:
                        return  # a newer zygote took over the socket
                except FileNotFoundError:
                    return  # our socket was removed: stopped
                continue
            with conn:
                conn.settimeout(5)
                data = b""
                while not data.endswith(b"\n"):
                    chunk = conn.recv(1 << 20)
                    if not chunk:
                        break
                    data += chunk
                try:
                    req = json.loads(data)
                except ValueError:
                    continue
                if req.get("op") == "hello":
                    reply = {"fingerprint": me, "pid": os.getpid()}
                elif req.get("op") == "spawn":
                    pid = os.fork()
                    if pid == 0:
                        server.close()
                        _child(req)
                    reply = {"pid": pid}
                else:
                    reply = {"error": f"unknown op {req.get('op')!r}"}
                with contextlib.suppress(OSError):
                    conn.sendall(json.dumps(reply).encode() + b"\n")
    finally:
        server.close()
        with contextlib.suppress(OSError):
            if sock_path.stat().st_ino == inode:
                sock_path.unlink()


if __name__ == "__main__":
    serve(Path(sys.argv[1]))

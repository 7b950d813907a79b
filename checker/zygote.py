"""A fork server that makes the learner's service start fast.

Starting the service is mostly importing fastapi, pydantic, SQLAlchemy and uvicorn
(about half a second). The zygote is a long-lived process that imports those libraries
once (never learner code) and forks a fresh child for each run; the child sets the run's
environment and working directory, starts a new session (so the runner can kill its
whole process group, as with any service), and only then imports the learner's app
through uvicorn. The checker process itself still never imports learner code. The
learner's RQ worker (``checker.sidecars.worker run``) is forked the same way, confined the
same way, at its supervisor's request: rq, redis and SQLAlchemy are imported already, so
a worker is listening in a fraction of the second a fresh interpreter takes.

Safety and lifetime:
* the socket is a file under ``.lab/`` (mode 0600 in a 0700 folder), so only this user
  can ask for a fork; if the path is too long for a unix socket, no zygote is used;
* it is started in the background on first use and reused while its fingerprint
  (interpreter, installed packages, this file) matches; ``lab services down`` stops it;
* ``LAB_ZYGOTE=0`` turns it off (services then start with a plain ``python -m uvicorn``).

A second, *trusted* zygote does the same for the checker's own processes: the hidden
checks' pytest process and the sidecars (sinks, the Redis fault proxy). It imports pytest,
httpx, psycopg and redis once, runs outside any sandbox (it never runs learner code; the
worker's supervisor, which does, is never forked by it) and runs a module as
``python -m`` would (``run_module``), with the caller's log and pipes passed over the
socket (SCM_RIGHTS). A checks process then costs about a tenth of a second of CPU instead
of half a second (benchmarks/zygote_checks.py), which the self-verification's hundreds of
runs and a class's grading feel most.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import select
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Callable
from pathlib import Path

from . import sandbox

PRELOAD = (
    "fastapi", "fastapi.routing", "fastapi.responses", "starlette.applications", "pydantic",
    "pydantic_settings", "sqlmodel", "sqlalchemy", "sqlalchemy.dialects.postgresql.psycopg",
    "sqlalchemy.orm", "psycopg", "psycopg_pool", "redis", "rq", "uvicorn", "uvicorn.main",
    "uvicorn.config", "uvicorn.server", "uvicorn.protocols.http.h11_impl",
    "uvicorn.protocols.http.httptools_impl", "uvicorn.lifespan.on", "uvicorn.loops.auto",
    "anyio", "anyio._backends._asyncio", "h11", "email_validator", "multipart", "jwt",
    "httpx",  # what a worker's jobs (webhooks, providers) call out with
)  # fmt: skip
#: The trusted zygote's imports: what the checks' pytest process and the sidecars need.
#: Nothing that patches the interpreter on import (locust's gevent), nothing of ours but
#: this module (the checks import checker modules fresh in each child).
TRUSTED_PRELOAD = (
    "pytest", "_pytest.main", "_pytest.python", "_pytest.fixtures", "_pytest.terminal",
    "_pytest.runner", "_pytest.debugging", "_pytest.unittest", "_pytest.junitxml",
    "_pytest.logging", "_pytest.capture", "_pytest.skipping", "pdb", "unittest", "difflib",
    "xml.etree.ElementTree", "socketserver", "http.server", "http.client", "tomllib",
    "httpx", "httpcore", "h11", "anyio", "anyio._backends._asyncio", "psycopg",
    "redis", "email.utils", "concurrent.futures",
)  # fmt: skip
#: What the service zygote forks: the learner's service (uvicorn), or the learner's RQ
#: worker (``checker.sidecars.worker run``: rq, redis and SQLAlchemy are preloaded here, so
#: only the lab's own modules are left to import).
PROGRAMS = ("uvicorn", "worker")
MAX_SOCKET_PATH = 100
MAX_FDS = 8
#: How long a fork request stays valid: past it the zygote refuses it (see ``_fork``).
FORK_DEADLINE_S = 20.0


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
    """The runner's side: find (or start) the zygote, ask it for a service process (or,
    the ``trusted`` one, for a process of the checker's own: ``run_module``)."""

    def __init__(self, state: Path, *, trusted: bool = False) -> None:
        self.trusted = trusted
        self.dir = state / ("zygote-trusted" if trusted else "zygote")
        self.sock = self.dir / "zygote.sock"
        self.log = self.dir / "zygote.log"
        self.pidfile = self.dir / "zygote.pid"
        self.proc: subprocess.Popen | None = None

    def usable(self) -> bool:
        return enabled() and len(str(self.sock)) <= MAX_SOCKET_PATH

    def _request(self, payload: dict, timeout: float = 5.0, fds: list[int] = ()) -> dict:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(str(self.sock))
            data = json.dumps(payload).encode() + b"\n"
            if fds:  # the descriptors ride with the first bytes
                sent = socket.send_fds(s, [data], list(fds))
                data = data[sent:]
            if data:  # never an empty send: the answer may be in and the zygote gone (EPIPE)
                s.sendall(data)
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
            reply = self._request({"op": "hello"}, timeout=1.0)
        except (OSError, ValueError):
            return False
        return reply.get("fingerprint") == fingerprint() and reply.get("trusted") == self.trusted

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
            prefix = [] if self.trusted else sandbox.zygote_prefix(self.dir / "mnt")
            kind = ["--trusted"] if self.trusted else []
            with open(self.log, "ab") as log:
                proc = subprocess.Popen(
                    [*prefix, sys.executable, "-m", "checker.zygote", str(self.dir), *kind],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True, cwd=self.dir, env=_server_env(),
                )  # fmt: skip
            self.pidfile.write_text(f"{proc.pid} {fingerprint()}")
            self.proc = proc  # the one this object started: its exit status, for tests
        # Reap it whenever it ends, so a long-lived caller (a notebook kernel, a test
        # session) keeps no zombie that would still look alive.
        threading.Thread(target=proc.wait, daemon=True).start()

    def _fork(self, payload: dict, fds: list[int] = ()) -> dict:
        """Ask for a fork. A busy machine can delay the answer past any timeout; the
        caller then starts the process the plain way, so the zygote must never fork it
        as well: the request carries a deadline after which the zygote refuses it, and a
        token under which it records the pid of what it forked before it answers. An
        answer lost after the fork is recovered from that record, never forked twice."""
        token = secrets.token_hex(8)
        payload = {**payload, "token": token, "not_after": time.time() + FORK_DEADLINE_S,
                   "lifeline": True}  # fmt: skip
        fds = [*fds, _lifeline()]
        started = self.dir / "started" / token
        try:
            reply = self._request(payload, timeout=FORK_DEADLINE_S + 2, fds=fds)
        except (OSError, ValueError) as exc:
            try:
                pid = int(started.read_text())  # forked; its answer was lost
            except (OSError, ValueError):
                raise OSError(f"the zygote did not answer ({exc!r})") from exc
            started.unlink(missing_ok=True)
            return {"pid": pid}
        started.unlink(missing_ok=True)
        return reply

    def spawn(self, args: list[str], *, cwd: Path, env: dict[str, str], log_path: Path,
              memory_mb: int | None = None, program: str = "uvicorn") -> int:  # fmt: skip
        """Fork a service (``program`` "uvicorn", ``args`` uvicorn's) or the learner's RQ
        worker ("worker", ``args`` those of ``python -m checker.sidecars.worker run``);
        under the run's sandbox (``LAB_SANDBOX`` in ``env``) the child takes the run's uid
        and limits before it imports any learner code."""
        if program not in PROGRAMS:
            raise ValueError(f"the zygote runs only {', '.join(PROGRAMS)}, not {program!r}")
        spec = sandbox.Spec.from_env(env)
        reply = self._fork(
            {
                "op": "spawn",
                "program": program,
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

    def run_module(self, module: str, args: list[str], *, cwd: Path, env: dict[str, str],
                   log_path: Path, fds: dict[str, int] | None = None) -> int:  # fmt: skip
        """Run ``python -m module args`` as a child of the trusted zygote, in a session of
        its own, with stdout and stderr appended to ``log_path``. ``fds``: descriptors of
        the caller's for the child, by the variable that tells it their number."""
        assert self.trusted, "only the trusted zygote runs the checker's own modules"
        fds = fds or {}
        log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            reply = self._fork(
                {"op": "run", "module": module, "args": args, "cwd": str(cwd),
                 "env": env, "fd_env": list(fds)},
                fds=[log, *fds.values()],
            )  # fmt: skip
        finally:
            os.close(log)
        if "pid" not in reply:
            raise OSError(reply.get("error", "the zygote did not start the process"))
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
    env = {k: os.environ[k] for k in keep if k in os.environ}
    # Room for the children's titles (setproctitle writes over the argv and environment
    # block the zygote started with, and cannot grow it): blanks, nothing of the caller's.
    env["LAB_TITLE_ROOM"] = " " * 4096
    return env


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
        _REAPED.add(pid)
        tmp = exits / f".{pid}"
        tmp.write_text(str(code))
        tmp.rename(exits / str(pid))


_REAPED: set[int] = set()  # in the zygote: children that have ended
_LIFELINE: tuple | None = None  # (owner pid, read end, write end, the pipe's identity)
_LIFELINE_LOCK = threading.Lock()


def _lifeline() -> int:
    """The read end of this process's lifeline: a pipe whose write end only this process
    holds (never inherited: os.pipe() is close-on-exec). The zygote watches the read end
    of every child it forks for us; when this process ends, however it ends (a SIGKILLed
    `lab worker`, an interrupted notebook kernel), the pipe reads end-of-file and the
    zygote kills the child's process group. Nothing a run started outlives its caller."""
    global _LIFELINE
    with _LIFELINE_LOCK:
        if _LIFELINE is None or _LIFELINE[0] != os.getpid() or not _ours(_LIFELINE):
            # Made here, not inherited; and still the pipe we made: if other code closed
            # its number by mistake, that number may now be another file, whose EOF would
            # kill our children (the old ends are not ours to close any more).
            r, w = os.pipe()
            _LIFELINE = (os.getpid(), r, w, _identity(r))
        return _LIFELINE[1]


def _identity(fd: int) -> tuple[int, int] | None:
    try:
        st = os.fstat(fd)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _ours(lifeline: tuple) -> bool:
    """Whether both ends still are the pipe the lifeline was made as."""
    _, r, w, made = lifeline
    return made is not None and _identity(r) == made and _identity(w) == made


def _watch_lifelines(lifelines: dict[int, int], ready: list) -> None:
    """Kill the process group of each child whose caller is gone (its lifeline reads
    end-of-file); forget the lifelines of children that have ended."""
    reaped = set(_REAPED)  # the SIGCHLD handler may add to it meanwhile
    for fd, pid in list(lifelines.items()):
        gone = pid in reaped
        if fd in ready and not gone:
            try:
                gone = os.read(fd, 1) == b""
            except OSError:
                gone = True
            if gone:
                with contextlib.suppress(OSError):
                    os.killpg(pid, signal.SIGKILL)
        if gone:
            del lifelines[fd]
            with contextlib.suppress(OSError):
                os.close(fd)
    _REAPED.difference_update(reaped)


def _record_start(home: Path, req: dict, pid: int) -> None:
    """The pid of what a request forked, under its token, before the answer is sent."""
    token = str(req.get("token", ""))
    if not token.isalnum():
        return
    folder = home / "started"
    folder.mkdir(exist_ok=True)
    tmp = folder / f".{token}"
    tmp.write_text(str(pid))
    tmp.rename(folder / token)


def _title(argv: list[str]) -> None:
    """Show the command line a plain start would have (ps, psutil, /proc/PID/cmdline),
    not the zygote's: for the person looking at their processes, and so that a service
    sees the same whether it was forked or started."""
    with contextlib.suppress(ImportError):
        import setproctitle

        setproctitle.setproctitle(" ".join(argv))


def _child(req: dict) -> None:
    """In the forked child: become the learner's service (or worker). Never returns."""
    _run_and_exit(lambda: _become_service(req))


def _become_service(req: dict) -> None:
    program = req.get("program", "uvicorn")
    if program == "worker":  # our own module, read before any learner code can run
        from checker.sidecars import worker as rq_worker
    elif program != "uvicorn":
        raise ValueError(f"unknown program {program!r}")
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
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    if program == "worker":
        module = "checker.sidecars.worker"
        sys.argv = [module, "run", *req["args"]]
        _title([sys.executable, "-m", module, "run", *req["args"]])
        sys.exit(rq_worker.main(["run", *req["args"]]))
    sys.argv = ["uvicorn", *req["args"]]
    _title([sys.executable, "-m", "uvicorn", *req["args"]])
    import uvicorn.main

    uvicorn.main.main(prog_name="uvicorn")


def _run_child(req: dict, fds: list[int]) -> None:
    """In the trusted zygote's forked child: ``python -m module args``. Never returns."""
    _run_and_exit(lambda: _become_module(req, fds))


def _become_module(req: dict, fds: list[int]) -> None:
    os.setsid()
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    log, keep = fds[0], sorted(fds[1:])
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    low = 3
    for fd in keep:  # close everything but the passed descriptors
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 65536)
    env = dict(req["env"])
    env.update({name: str(fd) for name, fd in zip(req["fd_env"], fds[1:], strict=True)})
    os.chdir(req["cwd"])
    os.environ.clear()
    os.environ.update(env)
    sys.path[0] = req["cwd"]
    sys.argv = [req["module"], *req["args"]]
    _title([sys.executable, "-m", req["module"], *req["args"]])
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    import runpy

    runpy.run_module(req["module"], run_name="__main__", alter_sys=True)


def _run_and_exit(main: Callable[[], None]) -> None:
    """In a forked child: run ``main`` and exit with its status (a SystemExit's code;
    1 and the traceback in the log if it raised). Never returns: the fork server's own
    clean-up must not run in the child."""
    code = 1
    try:
        try:
            main()
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


def _stop_on_sigterm(*_: object) -> None:
    print("SIGTERM: ending", flush=True)  # the log says why it ended
    sys.exit(0)


def serve(home: Path, trusted: bool = False) -> None:
    import importlib

    with contextlib.suppress(ImportError):
        import setproctitle  # set up now, while argv and environ are as exec left them

        setproctitle.setproctitle(setproctitle.getproctitle())

    for name in TRUSTED_PRELOAD if trusted else PRELOAD:
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
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    me = fingerprint()
    print(f"zygote {os.getpid()} ready on {sock_path}", flush=True)
    lifelines: dict[int, int] = {}  # a child's lifeline (read end) -> its pid
    try:
        while True:
            ready = select.select([server, *lifelines], [], [], 0.5)[0]
            _watch_lifelines(lifelines, ready)
            if server not in ready:
                try:
                    if sock_path.stat().st_ino != inode:
                        print("a newer zygote took over the socket: ending", flush=True)
                        return
                except FileNotFoundError:
                    print("the socket was removed (stopped): ending", flush=True)
                    return
                continue
            try:
                conn, _ = server.accept()
            except (TimeoutError, BlockingIOError):
                continue
            fds: list[int] = []
            with conn:
                conn.settimeout(5)
                try:
                    data, fds, _, _ = socket.recv_fds(conn, 1 << 20, MAX_FDS)
                    while data and not data.endswith(b"\n"):
                        chunk = conn.recv(1 << 20)
                        if not chunk:
                            break
                        data += chunk
                    req = json.loads(data)
                except (OSError, ValueError):
                    req = {}
                # The caller's lifeline comes last: the zygote keeps it, the child never
                # sees it (a service must not be able to tell it runs under a check).
                lifeline = fds.pop() if req.get("lifeline") and fds else None
                op = req.get("op")
                reply = {"error": "an unreadable request"}
                late = time.time() > float(req.get("not_after", float("inf")))
                if op in ("spawn", "run") and late:
                    reply = {"error": "the request came too late (the caller gave up)"}
                    op = None
                elif op == "hello":
                    reply = {"fingerprint": me, "pid": os.getpid(), "trusted": trusted}
                elif op == "spawn" and not trusted:
                    pid = os.fork()
                    if pid == 0:
                        server.close()
                        _child(req)
                    _REAPED.discard(pid)  # a pid of an older child, now this one's
                    reply = {"pid": pid}
                    _record_start(home, req, pid)
                elif op == "run" and trusted and fds and len(fds) == 1 + len(req["fd_env"]):
                    pid = os.fork()
                    if pid == 0:
                        server.close()
                        _run_child(req, fds)
                    _REAPED.discard(pid)  # a pid of an older child, now this one's
                    reply = {"pid": pid}
                    _record_start(home, req, pid)
                elif op is not None:
                    reply = {"error": f"unknown op {op!r} for this zygote"}
                for fd in fds:  # the child has its own copies now
                    with contextlib.suppress(OSError):
                        os.close(fd)
                if lifeline is not None:
                    pid = int(reply.get("pid", 0))
                    for fd in [fd for fd, p in lifelines.items() if p == pid]:
                        del lifelines[fd]  # an older child's, whose pid this one has
                        os.close(fd)
                    if pid and pid not in _REAPED:
                        lifelines[lifeline] = pid
                    else:
                        os.close(lifeline)
                with contextlib.suppress(OSError):
                    conn.sendall(json.dumps(reply).encode() + b"\n")
    finally:
        server.close()
        with contextlib.suppress(OSError):
            if sock_path.stat().st_ino == inode:
                sock_path.unlink()


if __name__ == "__main__":
    serve(Path(sys.argv[1]), trusted="--trusted" in sys.argv[2:])

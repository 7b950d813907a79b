"""The learner's RQ worker, run as a real process and crashed on purpose by the checks.

A lab with ``worker`` in its services gets, for every run, a small **supervisor**
process (``python -m checker.sidecars.worker supervise``), started by the runner in a session
of its own. The supervisor starts the learner's worker (``python -m checker.sidecars.worker
run``: rq's ``Worker`` on the lab's queues, ``with_scheduler=True`` so retries with
intervals are enqueued again, after importing the lab's ``[worker] imports`` once so a
job does not pay for them), logs it to ``worker.log`` in the run's folder, and answers
a control API the checks use (``checker.observe.rq.WorkerControl``):

``GET /status``   ``{"pid", "alive", "ready", "starts", "exit_code"}``; ready: the
                  worker has registered itself in Redis.
``POST /kill``    SIGKILL the worker and everything it started (its work horse, its
                  scheduler), as a crash would; then expire what the dead worker still
                  holds in Redis (see below).
``POST /start``   start a new worker (one at a time).

Why expire leases: after a crash, rq recovers on its own clock. The dead worker's job
stays in the started registry until its heartbeat expires (at least 60 s), then a
worker's maintenance retries it (if it has retries left) or moves it to the failed
registry with ``AbandonedJobError``; its scheduler lock blocks a new scheduler for 61 s.
A check cannot wait minutes, so ``/kill`` fast-forwards exactly those clocks, through
rq's own API: it runs ``StartedJobRegistry.cleanup`` as if the heartbeat had expired,
removes the dead scheduler's locks and the dead worker's registration. What happens
next (retry or failure) is rq's own logic. Only this run's Redis database is touched,
and only once no worker of the run is alive.

Where the worker comes from: once the service's fork server (``checker.zygote``, the
confined one, which already has rq, redis and SQLAlchemy imported) is warm, the supervisor
asks it for the worker (``--zygote-home``), and the worker is listening about a second
sooner than a fresh interpreter would be; it takes the run's uid and limits exactly as a
forked service does, before the lab's modules are imported. Otherwise (a cold run, the
fork server turned off or gone) the supervisor starts it the plain way, in the run's
sandbox (``sandbox.wrap``).

No process outlives a run: the supervisor is a child subreaper (Linux), so the work
horse (rq puts it in a process group of its own) comes back to it if a worker it started
dies first; a forked worker leads a session of its own, which the supervisor kills whole
(the worker, its horse, its scheduler). On SIGTERM (the runner stopping the run) or when
the runner dies (parent-death signal), it SIGKILLs all of them before it exits.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .. import sandbox
from .base import (
    ControlHandler,
    Exports,
    Sidecar,
    announce,
    checks_env,
    control_server,
    poll,
    serve_in_background,
)

PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36


def _prctl(option: int, value: int) -> None:
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


# ---------------------------------------------------------------- the worker itself


def run_worker(queues: list[str], imports: list[str]) -> None:
    """In the learner's worker process: import the lab's modules once, then work."""
    import importlib

    import redis
    from rq import Worker

    sys.path.insert(0, os.getcwd())
    for module in imports:
        importlib.import_module(module)
    connection = redis.Redis.from_url(os.environ["REDIS_URL"])
    worker = Worker(queues, connection=connection)
    worker.work(with_scheduler=True, logging_level="INFO")


# ---------------------------------------------------------------- the supervisor


def _descendants(pid: int) -> list[Any]:
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _kill_all(procs: list[Any]) -> None:
    import psutil

    for p in procs:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(procs, timeout=3)


def _session_members(sid: int) -> list[Any]:
    """Every process of session ``sid``, and every descendant of its leader: a worker the
    zygote forked leads a session of its own, and whatever it starts stays in it (rq
    puts the work horse in a process group of its own, not a session)."""
    import psutil

    found: dict[int, Any] = {}
    for proc in psutil.process_iter():
        with contextlib.suppress(OSError, psutil.Error):
            if os.getsid(proc.pid) == sid:
                found[proc.pid] = proc
    for proc in _descendants(sid):
        found.setdefault(proc.pid, proc)
    live = []
    for proc in found.values():  # a zombie is dead already (its parent reaps it)
        with contextlib.suppress(psutil.Error):
            if proc.status() != psutil.STATUS_ZOMBIE:
                live.append(proc)
    return live


def _kill_session(sid: int, timeout: float = 3.0) -> None:
    """SIGKILL the session ``sid`` (a forked worker, its horse, its scheduler) until none
    is left: one forked between the look and the kill is caught by the next look. The
    dead are reaped by their parents (the zygote, or init), not by us."""
    import psutil

    deadline = time.monotonic() + timeout
    while members := _session_members(sid):
        for proc in members:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        if time.monotonic() > deadline:
            return
        time.sleep(0.01)


class Supervisor:
    def __init__(self, queues: list[str], imports: list[str], log: Path,
                 zygote_home: Path | None = None) -> None:  # fmt: skip
        self.queues, self.imports, self.log = queues, imports, log
        self.proc: Any = None  # subprocess.Popen, or zygote.ForkedProcess
        self.starts = 0
        self.ns_pid: int | None = None
        self.started_at = 0.0
        self.lock = threading.Lock()
        #: the fork server of the learner's services (checker.zygote, the confined one):
        #: it forks the worker too, when warm, with rq and SQLAlchemy already imported
        self.zygote: Any = None
        if zygote_home is not None:
            from ..zygote import Zygote

            self.zygote = Zygote(zygote_home)
        self.forked = False  # the current worker came from the zygote

    def start(self) -> int:
        with self.lock:
            if self.proc is not None and self.proc.poll() is None:
                return self.proc.pid
            worker_args = ["--queues", ",".join(self.queues),
                           *[f"--import={m}" for m in self.imports]]  # fmt: skip
            self.started_at = time.time()
            if self._fork(worker_args):
                self.starts += 1
                return self.proc.pid
            args = [sys.executable, "-m", "checker.sidecars.worker", "run", *worker_args]
            # The learner's worker runs in the run's sandbox (the supervisor does not).
            args, env, confine = sandbox.wrap(args, dict(os.environ))
            # In its own PID namespace the worker is pid 1 there (and registers so).
            self.ns_pid = 1 if args[:1] == ["unshare"] else None
            with open(self.log, "ab") as log:
                self.proc = subprocess.Popen(
                    args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    env=env, preexec_fn=confine,
                )  # fmt: skip
            self.forked = False
            self.starts += 1
            return self.proc.pid

    def _fork(self, worker_args: list[str]) -> bool:
        """The worker forked by the service zygote, confined as the service is (the run's
        uid and limits, before the lab's modules are imported); False if it is not warm."""
        if self.zygote is None or not self.zygote.ready():
            return False
        from ..zygote import ForkedProcess

        try:
            pid = self.zygote.spawn(worker_args, cwd=Path.cwd(), env=dict(os.environ),
                                    log_path=self.log, program="worker")  # fmt: skip
        except OSError:
            return False  # gone meanwhile: start it the plain way
        self.proc, self.ns_pid, self.forked = ForkedProcess(pid, self.zygote), None, True
        return True

    def kill_everything(self) -> None:
        """SIGKILL the worker and all it started, wherever it came from."""
        if self.forked and self.proc is not None:
            _kill_session(self.proc.pid)
        # Everything below us: a worker we started, its horse, its scheduler, and
        # orphans that came back to us as the subreaper.
        _kill_all(_descendants(os.getpid()))

    def kill(self) -> dict[str, Any]:
        """SIGKILL the worker and all it started; then expire the dead worker's leases."""
        with self.lock:
            pid = self.proc.pid if self.proc else None
            self.kill_everything()
            if self.proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=3)
            _reap()
            expired = expire_dead_worker_leases(self.queues)
            return {"killed": pid, **expired}

    def status(self) -> dict[str, Any]:
        with self.lock:
            proc = self.proc
            alive = proc is not None and proc.poll() is None
            return {
                "pid": proc.pid if proc else None,
                "alive": alive,
                "ready": alive and _registered(self.ns_pid or proc.pid, self.started_at),
                "starts": self.starts,
                "exit_code": None if proc is None or alive else proc.returncode,
            }


def _reap() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def _connection():
    import redis

    return redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=5)


def _registered(pid: int, since: float) -> bool:
    """A worker with ``pid`` born since ``since`` (not a killed one's registration)."""
    from rq import Worker

    with contextlib.suppress(Exception), _connection() as conn:
        return any(w.pid == pid and (w.birth_date is None or w.birth_date.timestamp() > since - 2)
                   for w in Worker.all(connection=conn))  # fmt: skip
    return False


def expire_dead_worker_leases(queue_names: list[str]) -> dict[str, Any]:
    """What rq does once a dead worker's heartbeats expire, done now (no worker of the
    run is alive when this is called)."""
    from rq import Queue, Worker
    from rq.registry import StartedJobRegistry
    from rq.scheduler import RQScheduler

    far_future = time.time() + 10 * 365 * 86400
    abandoned: list[str] = []
    with _connection() as conn:
        for name in queue_names:
            queue = Queue(name, connection=conn)
            registry = StartedJobRegistry(queue=queue)
            abandoned += [m.decode().split(":")[0] for m in conn.zrange(registry.key, 0, -1)]
            registry.cleanup(timestamp=far_future)
            conn.delete(RQScheduler.get_locking_key(name))
        for worker in Worker.all(connection=conn):
            worker.register_death()
    return {"abandoned": abandoned}


def _handler(sup: Supervisor) -> type[ControlHandler]:
    class Handler(ControlHandler):
        def do_GET(self) -> None:
            if self.path == "/status":
                self.send(200, sup.status())
            else:
                self.send(404, {"title": "not found"})

        def do_POST(self) -> None:
            self.raw_body()
            if self.path == "/kill":
                self.send(200, sup.kill())
            elif self.path == "/start":
                self.send(200, {"pid": sup.start()})
            else:
                self.send(404, {"title": "not found"})

    return Handler


def supervise(queues: list[str], imports: list[str], port_file: Path, log: Path,
              zygote_home: Path | None = None) -> None:  # fmt: skip
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    sup = Supervisor(queues, imports, log, zygote_home)

    def stop(signum, frame):
        sup.kill_everything()
        _reap()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sup.start()
    server = control_server(_handler(sup))
    serve_in_background(server)
    announce(port_file, control=server.server_address[1])
    while True:  # reap the orphans that come back to us
        time.sleep(0.2)
        with sup.lock:
            if sup.proc is not None:
                sup.proc.poll()
            _reap()


# ---------------------------------------------------------------- runner side


class Worker(Sidecar):
    """``worker`` in services (``[worker] queues, imports``): the learner's RQ worker under
    a supervisor, started with the service's environment (so after the other sidecars),
    in the learner's workspace. The checks get ``LAB_WORKER_URL`` and the ``worker``
    fixture."""

    key = "worker"
    order = 90
    fixture = "worker"
    fixture_scope = "session"
    learner_code = True

    @classmethod
    def wanted(cls, lab: Any) -> bool:
        return "worker" in lab.services

    def start(self) -> None:
        lab = self.ctx.lab
        self.log = self.ctx.run_dir / "worker.log"
        args = ["supervise", "--queues", ",".join(lab.worker_queues), "--log", str(self.log),
                *[f"--import={m}" for m in lab.worker_imports]]  # fmt: skip
        if self.ctx.learner_zygote is not None:  # the service's fork server forks it too
            args += ["--zygote-home", str(self.ctx.learner_zygote.dir.parent)]
        self.helper = self.spawn("worker supervisor", "checker.sidecars.worker", args,
                                 stem="worker-supervisor", cwd=self.ctx.workspace)  # fmt: skip

    def url(self) -> str:
        return self.helper.url()

    def exports(self) -> Exports:
        return Exports(checks={"LAB_WORKER_URL": self.url()})

    def wait_ready(self, timeout: float) -> None:
        """Until the learner's worker has registered in Redis (raises StartFailed)."""
        import httpx

        from ..errors import RunErrorKind
        from ..process import StartFailed, tail

        url = self.url()

        def ready() -> dict[str, Any] | None:
            st = httpx.get(url + "/status", timeout=5).json()
            return st if st["ready"] or (not st["alive"] and st["exit_code"] is not None) else None

        st = poll(ready, timeout=timeout, every=0.05)
        if st is None:
            raise StartFailed(
                RunErrorKind.WORKER_UNREADY,
                f"Your worker did not start listening for jobs within {timeout:.0f} s.",
                tail(self.log),
            )
        if not st["ready"]:
            raise StartFailed(
                RunErrorKind.WORKER_START_FAILED,
                f"Your worker exited during start-up (exit code {st['exit_code']}) before "
                "it took any job. The log below shows why.",
                tail(self.log),
            )

    def stop(self) -> None:
        # SIGTERM first: the supervisor SIGKILLs every descendant, wherever its group.
        self.helper.stop(grace=3.0)

    @staticmethod
    def provide():
        """The run's RQ worker (kill, start, restart, status), through its supervisor."""
        from ..observe.rq import WorkerControl

        return WorkerControl(checks_env("LAB_WORKER_URL"))


SIDECAR = Worker


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m checker.sidecars.worker")
    parser.add_argument("mode", choices=["run", "supervise"])
    parser.add_argument("--queues", default="default")
    parser.add_argument("--import", dest="imports", action="append", default=[])
    parser.add_argument("--port-file", type=Path)
    parser.add_argument("--log", type=Path)
    parser.add_argument("--zygote-home", type=Path)
    args = parser.parse_args(argv)
    queues = [q for q in args.queues.split(",") if q]
    if args.mode == "run":
        run_worker(queues, args.imports)
    else:
        supervise(queues, args.imports, args.port_file, args.log, args.zygote_home)
    return 0


if __name__ == "__main__":
    sys.exit(main())

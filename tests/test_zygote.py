"""The fork server that starts services fast: used once warm, same verdicts as a plain
start, its children killed like any service, restarted when the installation changes."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from checker import runner
from checker.catalog import Catalog
from checker.workspace import Workspace
from checker.zygote import Zygote

from .conftest import FIXTURE_COURSE, gone_within, lab_cli, our_processes


def wait_ready(z: Zygote, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not z.ready():
        assert time.monotonic() < deadline, "the zygote never became ready"
        time.sleep(0.1)


@contextlib.contextmanager
def logs_on_failure(*zygotes: Zygote):
    """A failure inside shows each zygote's own log (its temp folder is pruned later)."""
    try:
        yield
    except BaseException as exc:
        time.sleep(1)  # a zygote that died: its last words
        logs = "\n".join(
            f"--- {z.log} (exit status {z.proc.poll() if z.proc else '?'}):\n"
            + (z.log.read_text() if z.log.exists() else "(none)")
            for z in zygotes
        )
        raise AssertionError(f"{exc!r}\n{logs}") from exc


@pytest.fixture
def hello(fixture_course, tmp_path):
    lab = Catalog(FIXTURE_COURSE).get("hello")
    dest = tmp_path / "hello-copy"
    shutil.copytree(lab.path, dest)
    return lab, dest


def test_runs_use_the_zygote_once_warm_and_agree_with_plain_starts(hello, tmp_path, monkeypatch):
    lab, copy = hello
    state = Path(os.environ["LAB_HOME"])
    z = Zygote(state)
    z.stop()
    first = runner.run(lab, Workspace(copy, "copy"), state=state)  # plain start, then warms
    wait_ready(z)
    started: list[bool] = []
    original = runner.process.Service.start

    def spy(self):
        out = original(self)
        started.append(self.via_zygote)
        return out

    monkeypatch.setattr(runner.process.Service, "start", spy)
    second = runner.run(lab, Workspace(copy, "copy"), state=state)
    assert started == [True], "a warm run starts the service through the zygote"
    assert [(c.id, c.status, c.message) for c in first.checks] == [
        (c.id, c.status, c.message) for c in second.checks
    ]
    assert our_processes(str(copy)) == []


def test_zygote_children_get_verdicts_for_bad_code(hello):
    lab, copy = hello
    state = Path(os.environ["LAB_HOME"])
    z = Zygote(state)
    if not z.ready():
        z.start_in_background()
        wait_ready(z)
    main = copy / "app" / "main.py"
    main.write_text(main.read_text().replace("def hello():", "def hello(:"))
    res = lab_cli("check", "hello", "--path", str(copy), "--json")
    data = json.loads(res.stdout)
    assert res.returncode == 2 and data["error"]["kind"] == "service_start_failed"
    assert "exit code 1" in data["error"]["message"]
    assert "SyntaxError" in data["error"]["log_tail"]
    assert our_processes(str(copy)) == []


def test_a_stale_zygote_is_replaced(tmp_path):
    z = Zygote(tmp_path)
    z.start_in_background()
    wait_ready(z)
    old_pid = int(z.pidfile.read_text().split()[0])
    z.pidfile.write_text(f"{old_pid} some-older-installation")
    z.start_in_background()
    try:
        wait_ready(z)
        new_pid = int(z.pidfile.read_text().split()[0])
        assert new_pid != old_pid
        assert gone_within(old_pid), "the stale zygote still runs"
    finally:
        z.stop()


def test_zygote_can_be_turned_off(hello, monkeypatch):
    lab, copy = hello
    monkeypatch.setenv("LAB_ZYGOTE", "0")
    assert not Zygote(Path(os.environ["LAB_HOME"])).usable()
    res = lab_cli("check", "hello", "--path", str(copy), "--json", env={"LAB_ZYGOTE": "0"})
    assert res.returncode == 1 and json.loads(res.stdout)["score"] == 2


def notify_copy(tmp_path, monkeypatch):
    """The queue fixture course's lab (a worker and a sink), a copy of it, the state."""
    from .test_workers import FIXTURE_CHECKS, QUEUE_COURSE

    monkeypatch.setenv("LAB_COURSE_DIR", str(QUEUE_COURSE))
    monkeypatch.setenv("LAB_CHECKS_DIR", str(FIXTURE_CHECKS))
    copy = tmp_path / "my-notify"
    shutil.copytree(QUEUE_COURSE / "labs" / "01-notify", copy)
    return Catalog(QUEUE_COURSE).get("notify"), copy, Path(os.environ["LAB_HOME"])


def test_the_checks_and_sidecars_are_forked_once_warm_with_the_same_verdicts(tmp_path, monkeypatch):
    """The trusted zygote forks the checks' pytest process and the sinks; a warm run gets
    the verdicts a plain one gets, and leaves none of them behind."""
    lab, copy, state = notify_copy(tmp_path, monkeypatch)
    trusted = Zygote(state, trusted=True)
    trusted.stop()
    first = runner.run(lab, Workspace(copy, "copy"), state=state)  # plain, then warms it
    wait_ready(trusted)
    forked: list[tuple[str, int]] = []
    original = Zygote.run_module

    def spy(self, module, *args, **kwargs):
        pid = original(self, module, *args, **kwargs)
        forked.append((module, pid))
        return pid

    monkeypatch.setattr(Zygote, "run_module", spy)
    second = runner.run(lab, Workspace(copy, "copy"), state=state)
    modules = [m for m, _ in forked]
    assert modules[0] == "pytest" and "checker.sidecars.sinks" in modules, modules
    assert [(c.id, c.status, c.message) for c in first.checks] == [
        (c.id, c.status, c.message) for c in second.checks
    ]
    assert second.error is None and first.error is None
    for module, pid in forked:
        assert gone_within(pid), f"the forked {module} outlived its run"


def test_each_zygote_does_only_its_own_kind_of_work(tmp_path):
    """The service zygote never runs the checker's modules, the trusted one never forks a
    service: a request for the other's work is refused."""
    service, trusted = Zygote(tmp_path), Zygote(tmp_path, trusted=True)
    for z in (service, trusted):
        z.start_in_background()
    try:
        with logs_on_failure(service, trusted):
            for z in (service, trusted):
                wait_ready(z)
            assert not Zygote(tmp_path / "x").ready()
            log = tmp_path / "out.log"
            with pytest.raises(OSError, match="unknown op 'run'"):
                service.trusted = True  # pretend, to send the request
                service.run_module("json.tool", ["--help"], cwd=tmp_path, env={}, log_path=log)
            service.trusted = False
            with pytest.raises(OSError, match="unknown op 'spawn'"):
                trusted.spawn(["app:app"], cwd=tmp_path, env={}, log_path=log)
            pid = trusted.run_module("json.tool", ["--help"], cwd=tmp_path,
                                     env={"PATH": os.environ["PATH"]}, log_path=log)  # fmt: skip
            assert gone_within(pid)
            assert "usage:" in log.read_text()
    finally:
        for z in (service, trusted):
            z.stop()


def test_a_fork_request_past_its_deadline_is_refused_and_a_lost_answer_recovered(tmp_path):
    """A caller that gave up waiting starts the process itself: the zygote must not fork
    it too (a second checks process would race the first for the run's pipes). And an
    answer lost after the fork is recovered from the zygote's record, not forked again."""
    z = Zygote(tmp_path, trusted=True)
    z.start_in_background()
    try:
        wait_ready(z)
        log = tmp_path / "out.log"
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            late = {"op": "run", "module": "json.tool", "args": ["--help"], "cwd": str(tmp_path),
                    "env": {}, "fd_env": [], "token": "late", "not_after": time.time() - 1}  # fmt: skip
            reply = z._request(late, fds=[fd])
            assert "too late" in reply.get("error", ""), reply
            assert not (z.dir / "started" / "late").exists()
            on_time = {**late, "token": "ontime", "not_after": time.time() + 30}
            reply = z._request(on_time, fds=[fd])
            recorded = int((z.dir / "started" / "ontime").read_text())
            assert reply["pid"] == recorded
            assert gone_within(recorded)
        finally:
            os.close(fd)
        assert log.read_text().count("usage:") == 1, "forked once, for the request on time"
    finally:
        z.stop()


_CALLER = """
import os, sys, time
from pathlib import Path
from checker.zygote import Zygote

home, here = Path(sys.argv[1]), Path(sys.argv[2])
trusted, confined = Zygote(home, trusted=True), Zygote(home)
for z in (trusted, confined):
    z.start_in_background()
deadline = time.monotonic() + 30
while not (trusted.ready() and confined.ready()) and time.monotonic() < deadline:
    time.sleep(0.1)
env = dict(os.environ)
sink = trusted.run_module("sleeper", [], cwd=here, env=env, log_path=here / "sleeper.log")
svc = confined.spawn(["svc:app", "--host", "127.0.0.1", "--port", "0"], cwd=here, env=env,
                     log_path=here / "service.log")
print(sink, svc, flush=True)
time.sleep(300)
"""


def test_forked_children_die_with_the_process_that_asked_for_them(tmp_path):
    """A SIGKILLed caller (a `lab worker` mid-run) leaves nothing the fork servers started
    for it: each watches its caller's lifeline and kills the child's process group."""
    import signal
    import subprocess
    import sys

    home, here = tmp_path / "state", tmp_path / "here"
    here.mkdir()
    (here / "sleeper.py").write_text("import time\ntime.sleep(300)\n")
    (here / "svc.py").write_text("async def app(scope, receive, send):\n    pass\n")
    caller = subprocess.Popen(
        [sys.executable, "-c", _CALLER, str(home), str(here)],
        stdout=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        sink, service = (int(p) for p in caller.stdout.readline().split())
        time.sleep(1.5)  # several turns of the fork servers' loops
        for pid in (sink, service):
            os.kill(pid, 0)  # alive while their caller is: the lifeline is no timer
        os.killpg(caller.pid, signal.SIGKILL)
        caller.wait(timeout=10)
        assert gone_within(sink), "the checker's own child outlived its caller"
        assert gone_within(service), "the service outlived the run that started it"
    finally:
        if caller.poll() is None:
            os.killpg(caller.pid, signal.SIGKILL)
            caller.wait()
        caller.stdout.close()
        for z in (Zygote(home, trusted=True), Zygote(home)):
            z.stop()


def _worker_pids(state: Path, lab_id: str) -> list[int]:
    """The pids of the run's RQ workers (a check may kill one and start another), as rq
    logged them in the last run of ``lab_id``."""
    import re

    run_dir = sorted(state.glob(f"runs/*-{lab_id}-*"))[-1]
    log = (run_dir / "worker.log").read_text()
    return [int(pid) for pid in re.findall(r"Worker \S+: started with PID (\d+)", log)]


def test_the_worker_is_forked_by_the_service_zygote_once_warm_with_the_same_verdicts(
    tmp_path, monkeypatch
):
    """The learner's RQ worker comes from the service's (confined) fork server once it
    is warm: the fork server is its parent (it reaps it), its verdicts are a plain start's,
    and a killed worker, its horse and its scheduler are all gone after the run."""
    lab, copy, state = notify_copy(tmp_path, monkeypatch)
    monkeypatch.setenv("LAB_ZYGOTE", "0")
    plain = runner.run(lab, Workspace(copy, "copy"), state=state)
    plain_pids = _worker_pids(state, "notify")
    monkeypatch.delenv("LAB_ZYGOTE")
    z = Zygote(state)
    if not z.ready():
        z.start_in_background()
        wait_ready(z)
    forked = runner.run(lab, Workspace(copy, "copy"), state=state)
    pids = _worker_pids(state, "notify")
    assert plain.error is None and forked.error is None
    assert [(c.id, c.status, c.message) for c in plain.checks] == [
        (c.id, c.status, c.message) for c in forked.checks
    ]
    assert "worker_recovers" in {c.id for c in forked.checks if c.status == "pass"}
    assert len(pids) == 2, "the check killed the first worker, the supervisor started one"
    for pid in pids:
        assert gone_within(pid), f"the forked worker {pid} outlived its run"
        deadline = time.monotonic() + 5
        while not (z.dir / "exits" / str(pid)).exists():  # reaped by its parent
            assert time.monotonic() < deadline, f"worker {pid} was not the zygote's child"
            time.sleep(0.05)
    assert not any((z.dir / "exits" / str(pid)).exists() for pid in plain_pids if pid > 1)
    assert our_processes(str(copy)) == []


def test_the_service_zygote_forks_only_a_service_or_a_worker(tmp_path):
    """Anything else asked of it is refused, by the caller and by the child itself,
    before it runs anything."""
    z = Zygote(tmp_path)
    with pytest.raises(ValueError, match="not 'python'"):
        z.spawn(["-c", "print(1)"], cwd=tmp_path, env={}, log_path=tmp_path / "x.log",
                program="python")  # fmt: skip
    z.start_in_background()
    try:
        wait_ready(z)
        log = tmp_path / "out.log"
        reply = z._request({"op": "spawn", "program": "python", "args": ["-c", "print(1)"],
                            "cwd": str(tmp_path), "env": {}, "log": str(log)})  # fmt: skip
        assert gone_within(reply["pid"])
        assert not log.exists(), "the child ran nothing, not even opened its log"
        assert "unknown program 'python'" in z.log.read_text()
    finally:
        z.stop()


def test_a_lifeline_whose_number_was_closed_elsewhere_is_made_anew():
    """Code that closes a descriptor twice can close our lifeline's number, which the
    next open() reuses: sending that file as the lifeline would let its end-of-file kill
    a run's children. The lifeline checks it is still its pipe, and makes a new one."""
    from checker import zygote as z

    first = z._lifeline()
    made = z._LIFELINE[3]
    os.close(first)  # a double close elsewhere in the process
    other = os.open(os.devnull, os.O_RDONLY)  # takes the lowest free number: likely ours
    try:
        again = z._lifeline()
        assert z._identity(again) == z._LIFELINE[3] != z._identity(other)
        assert z._LIFELINE[3] != made, "a new pipe, not the old number"
    finally:
        os.close(other)


def test_an_answer_that_comes_while_the_caller_is_still_sending_is_read(tmp_path, monkeypatch):
    """The zygote answers and hangs up as soon as it has the request. A caller descheduled
    between sending the request and reading the answer (a busy machine) must still read
    it: an empty send to the closed socket would fail (EPIPE), and the caller would take a
    refused request for a zygote that did not answer (CI saw that, 1 run in a few)."""
    from checker import zygote as z

    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(tmp_path / "z.sock"))
    server.listen(1)
    hung_up = threading.Event()

    def answer_and_hang_up():
        conn, _ = server.accept()
        with conn:
            _, fds, _, _ = socket.recv_fds(conn, 65536, 8)
            for fd in fds:
                os.close(fd)
            conn.sendall(b'{"error": "unknown op"}\n')
        hung_up.set()

    threading.Thread(target=answer_and_hang_up, daemon=True).start()
    real_send_fds = socket.send_fds

    def send_fds_then_be_descheduled(*args, **kwargs):
        sent = real_send_fds(*args, **kwargs)
        assert hung_up.wait(5)
        return sent

    monkeypatch.setattr(z.socket, "send_fds", send_fds_then_be_descheduled)
    caller = Zygote(tmp_path, trusted=True)
    caller.sock = tmp_path / "z.sock"
    r, w = os.pipe()
    try:
        assert caller._request({"op": "spawn"}, fds=[r]) == {"error": "unknown op"}
    finally:
        for fd in (r, w):
            os.close(fd)
        server.close()

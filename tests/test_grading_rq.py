"""`lab grade --redis` with real `lab worker` processes (RQ) sharing one Redis.

One worker is killed (SIGKILL, with the job it was running) in the middle of the grade:
its job's lease lapses, `lab grade` enqueues it again, the other worker runs it, and
every submission still gets its known verdicts.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import redis

from checker.catalog import Catalog
from checker.grading.jobs import LEASE_PREFIX
from checker.grading.sample import make_class
from checker.paths import state_dir
from checker.services import providers
from checker.services.redis_lease import RedisLease

from .conftest import ROOT


def _start_worker(name: str, url: str, tmp: Path) -> subprocess.Popen:
    tmpdir = tmp / f"{name}-tmp"
    tmpdir.mkdir()
    with open(tmp / f"{name}.log", "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "checker", "worker", "--redis", url, "--name", name],
            # Without the fork servers: what a SIGKILLed worker leaves is found by the
            # environment its processes started with, which a forked process does not show.
            cwd=ROOT, env={**os.environ, "TMPDIR": str(tmpdir), "LAB_ZYGOTE": "0"}, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def _kill_leftovers(marker: str) -> list[int]:
    """A SIGKILLed worker leaves its service and checks processes (own sessions) behind;
    they are found by the worker's TMPDIR in their working dir or environment."""
    killed = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if marker in proc.cwd() or marker in proc.environ().get("LAB_WORKSPACE", ""):
                proc.kill()
                killed.append(proc.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return killed


def test_killed_worker_loses_no_submission(tmp_path: Path):
    lab = Catalog(ROOT).get("crud")
    expected = make_class(lab, tmp_path / "subs", 6)
    lease = RedisLease(providers(state_dir(ROOT)).redis.ensure())
    url = lease.acquire()  # an empty Redis database of our own for the queue
    workers = {n: _start_worker(n, url, tmp_path) for n in ("w1", "w2")}
    out = tmp_path / "results"
    grade = subprocess.Popen(
        [sys.executable, "-m", "checker", "grade", str(tmp_path / "subs"), "--lab", "crud", "--redis", url,
         "--json", "--out", str(out)],
        cwd=ROOT, env={**os.environ, "LAB_INSTRUCTOR_HOME": str(tmp_path / "instructor")},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    conn = redis.Redis.from_url(url)
    victim = None
    try:
        deadline = time.monotonic() + 120
        while victim is None and time.monotonic() < deadline:
            for key in conn.scan_iter(LEASE_PREFIX + "*"):
                horse = int(conn.get(key) or 0)
                with contextlib.suppress(psutil.NoSuchProcess):
                    parent = psutil.Process(horse).ppid()
                    victim = next((n for n, w in workers.items() if w.pid == parent), None)
                if victim:
                    time.sleep(1.0)  # well inside its run: service up, checks running
                    os.killpg(workers[victim].pid, signal.SIGKILL)
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(os.getpgid(horse), signal.SIGKILL)
                    break
            time.sleep(0.1)
        assert victim, "no job was seen running"
        assert workers[victim].wait(timeout=10) == -signal.SIGKILL
        _kill_leftovers(str(tmp_path / f"{victim}-tmp"))
        stdout, stderr = grade.communicate(timeout=240)
    finally:
        if grade.poll() is None:
            grade.kill()
            grade.communicate()
        for w in workers.values():
            if w.poll() is None:
                os.killpg(w.pid, signal.SIGTERM)
                try:
                    w.wait(timeout=60)
                except subprocess.TimeoutExpired:  # a busy machine: never leave it running
                    os.killpg(w.pid, signal.SIGKILL)
                    w.wait(timeout=30)
        _kill_leftovers(str(tmp_path))
        conn.close()
        lease.release()
    assert grade.returncode == 0, stderr
    assert "enqueued again" in stderr
    results = {r["student"]: r for r in json.loads(stdout)}
    assert set(results) == set(expected), "no submission lost"
    for student, (variant, verdicts) in expected.items():
        got = {c["id"]: c["status"] for c in results[student]["checks"]}
        assert got == verdicts, f"{student} ({variant})"
        assert (out / student / "crud.json").exists()
    survivor = next(n for n in workers if n != victim)
    assert workers[survivor].returncode is not None  # stopped by us, after the grade

"""The learner's RQ worker as the runner runs it: started with the run, reported when it
cannot start, and never outliving the run, even one interrupted with Ctrl-C mid-job."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import FIXTURE_CHECKS, FIXTURES, ROOT, our_processes

QUEUE_COURSE = FIXTURES / "queue_course"


@pytest.fixture
def notify_copy(tmp_path, monkeypatch):
    monkeypatch.setenv("LAB_COURSE_DIR", str(QUEUE_COURSE))
    monkeypatch.setenv("LAB_CHECKS_DIR", str(FIXTURE_CHECKS))
    dest = tmp_path / "my-notify"
    shutil.copytree(QUEUE_COURSE / "labs" / "01-notify", dest)
    return dest


def check(copy: Path, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "checker", "check", "notify", "--path", str(copy), "--json"],
        cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, **env},
    )  # fmt: skip


def test_a_worker_that_cannot_start_gets_a_verdict(notify_copy):
    proc = check(notify_copy, NOTIFY_WORKER_CRASH="1")
    out, err = proc.communicate(timeout=120)
    result = json.loads(out)
    assert proc.returncode == 2, err
    assert result["error"]["kind"] == "worker_start_failed"
    assert "this worker cannot start" in result["error"]["log_tail"]
    assert our_processes(str(notify_copy)) == []


@pytest.mark.parametrize("start", ["plain", "forked"])
def test_ctrl_c_mid_job_leaves_no_worker_horse_or_sink(notify_copy, start):
    """Started the plain way (in a PID namespace of its own when sandboxed) or forked by
    the service's fork server (a session of its own): nothing survives."""
    env = {"LAB_ZYGOTE": "0"} if start == "plain" else {}
    if start == "forked":
        from checker.zygote import Zygote

        z = Zygote(Path(os.environ["LAB_HOME"]))
        z.start_in_background()
        deadline = time.monotonic() + 30
        while not z.ready():
            assert time.monotonic() < deadline, "the zygote never became ready"
            time.sleep(0.1)
    proc = check(notify_copy, NOTIFY_JOB_SLEEP="60", LAB_CHECKS_TIMEOUT="90", **env)
    deadline = time.monotonic() + 60
    # The work horse: a child of the worker, in a process group of its own (rq shows
    # what it does in its command line).
    while not any("Processing app.tasks" in p for p in our_processes(str(notify_copy))):
        assert time.monotonic() < deadline, "the worker never took the job"
        time.sleep(0.1)
    time.sleep(1.0)
    before = our_processes(str(notify_copy))
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert our_processes(str(notify_copy)) == [], f"survivors of {before}"
    ours = [p for p in our_processes(os.environ["LAB_HOME"])
            if "checker.sidecars." in p]  # fmt: skip
    assert ours == [], "no sink or supervisor survives"


@pytest.mark.parametrize(
    ("lab", "helper"),
    [("caching", "checker.sidecars.redis_proxy"), ("queues", "checker.sidecars.worker")],
)
def test_ctrl_c_during_a_real_lab_leaves_nothing(lab, helper):
    """The course's own labs: the Redis fault proxy (caching), the worker, its horse and
    the email sink (queues) all go with an interrupted run."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "checker", "check", lab, "--solution"], cwd=ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ},
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not [p for p in our_processes(os.environ["LAB_HOME"]) if helper in p]:
        assert time.monotonic() < deadline, f"no {helper} process ever started"
        time.sleep(0.1)
    time.sleep(1.5)  # the checks are running now
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    marker = f"lab-{lab}-"  # the composed solution's temporary folder
    survivors = [p for p in our_processes(os.environ["LAB_HOME"]) + our_processes(marker)
                 if "checker.zygote" not in p and ("checker." in p or marker in p)]  # fmt: skip
    assert survivors == []

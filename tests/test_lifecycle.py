"""How runs live and die: concurrent checks, Ctrl-C, `lab watch`, and a non-root user."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from checker.services import providers

from .conftest import FIXTURE_COURSE, ROOT, our_processes

HELLO = FIXTURE_COURSE / "labs" / "01-hello"


@pytest.fixture
def copy(hello_copy):
    return hello_copy


def spawn(*args: str, env: dict | None = None, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "checker", *args], cwd=ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": "120", **(env or {})}, **kw,
    )  # fmt: skip


def run_databases() -> set[str]:
    admin = providers(Path(os.environ["LAB_HOME"])).postgres.ensure()
    with psycopg.connect(admin) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'lab_run_%'")
        return {r[0] for r in rows}


def test_concurrent_checks_are_isolated(copy):
    procs = [spawn("check", "hello", "--path", str(copy), "--json") for _ in range(3)]
    procs.append(spawn("check", "hello", "--solution", "--json"))
    outs = [p.communicate(timeout=120) for p in procs]
    results = [json.loads(out) for out, _ in outs]
    scores = [r["score"] for r in results]
    problems = [(c["id"], c["message"]) for r in results for c in r["checks"]
                if c["status"] != "pass" and c["id"] != "greets"]  # fmt: skip
    assert scores == [2, 2, 2, 4], problems
    assert [p.returncode for p in procs] == [1, 1, 1, 0]


def test_ctrl_c_stops_everything_and_drops_the_database(copy):
    before = run_databases()
    env = {"HELLO_CHECK_HANG": "1", "LAB_HTTP_TIMEOUT": "60", "LAB_CHECKS_TIMEOUT": "60"}
    proc = spawn("check", "hello", "--path", str(copy), env=env)
    deadline = time.monotonic() + 30
    while not our_processes(str(copy)):  # wait until the service runs
        assert time.monotonic() < deadline, "the service never started"
        time.sleep(0.1)
    time.sleep(1.0)  # the checks are now waiting on the hanging handler
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Interrupted" in err
    assert our_processes(str(copy)) == [], "no process of the run outlives Ctrl-C"
    assert run_databases() <= before, "the run's database is dropped"


def test_watch_rechecks_on_save(copy):
    proc = spawn("watch", "hello", "--path", str(copy), "--poll",
                 env={"LAB_CHECKS_DIR": os.environ["LAB_CHECKS_DIR"]})  # fmt: skip
    lines = Lines(proc)
    try:
        out = lines.until("Watching", 60)
        assert "score 2/4" in out
        main = copy / "app" / "main.py"
        main.write_text(main.read_text().replace("status_code=418", "status_code=200"))
        out = lines.until("Watching", 60)
        assert "changed: main.py" in out and "score 4/4" in out
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    assert our_processes(str(copy)) == []


class Lines:
    """Collects a process's stdout in a thread, to wait for markers without blocking."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.text = ""
        self.seen = 0
        threading.Thread(target=self._pump, args=(proc,), daemon=True).start()

    def _pump(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            self.text += line

    def until(self, marker: str, timeout: float) -> str:
        """The output after the last call, once it contains ``marker``."""
        deadline = time.monotonic() + timeout
        while marker not in self.text[self.seen :]:
            assert time.monotonic() < deadline, f"no {marker!r} in:\n{self.text}"
            time.sleep(0.05)
        end = self.text.index(marker, self.seen) + len(marker)
        out, self.seen = self.text[self.seen : end], end
        return out


@pytest.mark.skipif(os.geteuid() != 0, reason="as a normal user the whole suite is this test")
def test_a_normal_user_gets_embedded_servers(tmp_path):
    """CI runs as root; learners do not. Run a check as an unprivileged user."""
    user = "nobody"
    entry = pwd.getpwnam(user)
    home = tmp_path / "learner"
    shutil.copytree(FIXTURE_COURSE, home / "course")
    for p in [home, *home.rglob("*")]:
        os.chown(p, entry.pw_uid, entry.pw_gid)
    # Let the user reach its folder and the interpreter (a pyenv or venv under /root
    # is not reachable by other users): o+x on the parent folders, as the embedded
    # PostgreSQL itself needs when run as root.
    for target in (home, Path(sys.executable), Path(sys.executable).resolve()):
        for parent in target.parents:
            parent.chmod(parent.stat().st_mode | 0o001)
    env = {
        "PATH": os.environ["PATH"], "HOME": str(home), "LAB_HOME": str(home / "state"),
        "LAB_COURSE_DIR": str(home / "course"), "LAB_CHECKS_DIR": os.environ.get(
            "LAB_CHECKS_DIR", str(ROOT / "tests" / "fixtures" / "checks")),
    }  # fmt: skip

    def as_user(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "checker", *args], cwd=home / "course", env=env,
            user=entry.pw_uid, group=entry.pw_gid, extra_groups=[], capture_output=True,
            text=True, timeout=180,
        )  # fmt: skip

    try:
        res = as_user("check", "hello", "--json")
        assert res.returncode == 1, res.stderr
        assert json.loads(res.stdout)["score"] == 2
        data_dir = home / "state" / "postgres" / "data"
        assert data_dir.stat().st_uid == entry.pw_uid, "the server runs as the learner"
    finally:
        as_user("services", "down")

"""Shared fixtures for the project's own tests.

The whole session runs with its own LAB_HOME (embedded servers and state in a temp
folder, stopped at the end) and HOME pointed at an empty temp folder, so nothing here
touches the developer's .lab/ or home. Set LAB_DATABASE_URL / LAB_REDIS_URL to run the
same tests against external servers (CI does both).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIXTURE_COURSE = FIXTURES / "course"
FIXTURE_CHECKS = FIXTURES / "checks"


@pytest.fixture(scope="session", autouse=True)
def lab_home():
    # Not under pytest's numbered temp dirs: another pytest session starting meanwhile
    # prunes old ones, which would delete our running PostgreSQL's data directory.
    base = Path(tempfile.mkdtemp(prefix="backend-lab-tests-"))
    home, fake_user_home = base / "lab-home", base / "user-home"
    home.mkdir()
    fake_user_home.mkdir()
    old = {k: os.environ.get(k) for k in ("LAB_HOME", "HOME", "LAB_COURSE_DIR", "LAB_CHECKS_DIR")}
    os.environ["LAB_HOME"] = str(home)
    os.environ["HOME"] = str(fake_user_home)
    os.environ.pop("LAB_COURSE_DIR", None)
    os.environ.pop("LAB_CHECKS_DIR", None)
    yield home
    # Stop the embedded servers this session started: no process outlives the tests.
    subprocess.run([sys.executable, "-m", "checker", "services", "down"], cwd=ROOT,
                   capture_output=True, timeout=120)  # fmt: skip
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    shutil.rmtree(base)


@pytest.fixture
def fixture_course(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny fixture course (lab `hello`) with its own hidden checks."""
    monkeypatch.setenv("LAB_COURSE_DIR", str(FIXTURE_COURSE))
    monkeypatch.setenv("LAB_CHECKS_DIR", str(FIXTURE_CHECKS))
    return FIXTURE_COURSE


@pytest.fixture
def hello_copy(tmp_path: Path, fixture_course: Path) -> Path:
    """A learner's copy of the fixture lab, to break in a test and check with --path."""
    dest = tmp_path / "my-hello"
    shutil.copytree(fixture_course / "labs" / "01-hello", dest)
    return dest


def lab_cli(*args: str, cwd: Path = ROOT, env: dict | None = None, timeout: float = 180):
    """Run the `lab` command as a user would (a separate process)."""
    return subprocess.run(
        [sys.executable, "-m", "checker", *args],
        cwd=cwd, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "COLUMNS": "120", **(env or {})},
    )  # fmt: skip


def gone_within(pid: int, seconds: float = 5) -> bool:
    """True once no process has ``pid`` (waits up to ``seconds``)."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def _lease_holders() -> dict[int, int]:
    """inode of a locked file -> pid that holds its flock, from /proc/locks."""
    holders = {}
    with contextlib.suppress(OSError), open("/proc/locks") as f:
        for line in f:
            parts = line.split()
            if "->" in parts or len(parts) < 6 or parts[1] != "FLOCK":
                continue  # a waiter, or another kind of lock
            with contextlib.suppress(ValueError, IndexError):
                holders[int(parts[5].split(":")[2])] = int(parts[4])
    return holders


def _ours(uid: int, holders: dict[int, int]) -> bool:
    """Whether what runs under sandbox ``uid`` is this test session's: its lease is held
    by this process or one of its descendants (a run going on), or by nobody (what a run
    left behind). A lease another process tree holds is another run's: a second test
    suite, or `lab grade`, on the same machine."""
    import psutil

    from checker.sandbox import LOCK_DIR, UID_BASE

    try:
        holder = holders.get(os.stat(LOCK_DIR / f"uid-{uid - UID_BASE}").st_ino)
    except OSError:
        return True
    if holder is None or holder == os.getpid():
        return True
    try:
        return os.getpid() in {p.pid for p in psutil.Process(holder).parents()}
    except psutil.Error:
        return True


def our_processes(marker: str) -> list[str]:
    """Processes whose command line or working dir mentions ``marker``, and every
    process of a sandbox uid this session's runs lease or left behind (learner code may
    run from a copy of ``marker``): see ``_ours``."""
    import psutil

    from checker.sandbox import UID_BASE, UID_SLOTS

    found = []
    holders = _lease_holders()
    for proc in psutil.process_iter(["cmdline", "pid", "uids", "status"]):
        try:
            cmd = " ".join(proc.info["cmdline"] or [])
            uid = proc.info["uids"].real
            boxed = UID_BASE <= uid < UID_BASE + UID_SLOTS and _ours(uid, holders)
            if proc.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if proc.pid != os.getpid() and (boxed or marker in cmd or marker in proc.cwd()):
                found.append(f"{proc.pid}: {cmd}")
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


# ---------------------------------------------------------------- where CI's time goes

_TIMES: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Add up the time of every test by file and, in the self-verification, by lab."""
    path, _, rest = report.nodeid.partition("::")
    key, took = path, report.duration
    if path.endswith("test_selfcheck.py") and "[" in rest:
        from tests.test_selfcheck import LABS, POOL

        param = rest.split("[", 1)[1].rstrip("]")
        lab = max((lab.id for lab in LABS if param.startswith(lab.id)), key=len, default="")
        pool = "self-verification: cases run two at a time"
        if report.nodeid == POOL["carrier"] and report.when == "call":
            took -= POOL["seconds"]  # the test that waited for the pool: not its own time
            _TIMES[pool] = _TIMES.get(pool, 0.0) + POOL["seconds"]
        key = pool if report.nodeid in POOL["nodes"] else "self-verification: " + (lab or "other")
    _TIMES[key] = _TIMES.get(key, 0.0) + took


def pytest_terminal_summary(terminalreporter) -> None:
    """One table of where the run's time went: what CI's budget (20 minutes, as labs
    double) is planned from. The cases that run two at a time (no timed check) share
    one line: they all run while the first test of the self-verification waits."""
    if not _TIMES:
        return
    tr = terminalreporter
    tr.section("time by file and by lab")
    for key, took in sorted(_TIMES.items(), key=lambda kv: -kv[1]):
        if took >= 1.0:
            tr.write_line(f"{took:8.1f} s  {key}")
    tr.write_line(f"{sum(_TIMES.values()):8.1f} s  in all")

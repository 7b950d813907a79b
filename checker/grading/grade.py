"""`lab grade SUBMISSIONS`: every lab for every submission, checked by the trusted checker.

SUBMISSIONS is a folder with one folder per student (a copy of the course, or just its
``labs/NN-id`` folders, or just ``NN-id`` folders), or a roster CSV with the columns
``student,repo`` (any ``git clone`` source: a URL or a local path), cloned with
``--depth 1``. Each (student, lab) becomes a job (see ``jobs.py``) run either locally,
``--jobs N`` at a time, or by `lab worker` processes sharing one Redis (``--redis``).
Each result is signed with the instructor's key, kept in the gradebook and written to
``OUT/<student>/<lab>.json``.

Distributed jobs hold a lease in Redis while they run; when a lease lapses (the worker
was killed, its machine went away) the job is enqueued again, so no submission is lost.
The first result that comes back for a (student, lab) is the one kept.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import process
from ..catalog import Catalog, Lab
from ..errors import UsageError
from .jobs import LEASE_PREFIX, Limits, SubmissionError, not_graded, pack

QUEUE = "backend-lab-grading"
QUEUE_MARKER = "backend-lab:grading-queue"
_SAFE = re.compile(r"[^A-Za-z0-9_.@+-]")


@dataclass
class Task:
    student: str
    lab: Lab
    source: Path | None = None  # the learner's lab folder
    problem: tuple[str, str] | None = None  # (kind, message) when it cannot be graded

    @property
    def key(self) -> tuple[str, str]:
        return (self.student, self.lab.id)


@dataclass
class Outcome:
    results: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    retried: int = 0  # jobs enqueued again after their worker died

    @property
    def per_minute(self) -> float:
        return len(self.results) / self.seconds * 60 if self.seconds else 0.0


def _lab_dir(sub: Path, lab: Lab) -> Path | None:
    for cand in (sub / "labs" / lab.dirname, sub / lab.dirname, sub / lab.id):
        if cand.is_dir() and not cand.is_symlink():
            return cand
    return None


def _student_name(raw: str) -> str:
    name = _SAFE.sub("_", raw.strip())
    if not name or name.startswith("."):
        raise UsageError(f"{raw!r} is not usable as a student name.")
    return name


def _clone(repo: str, dest: Path, base: Path) -> str | None:
    """Clone a roster entry; returns an error message, or None."""
    src = repo
    if "://" not in repo and not repo.startswith("git@"):
        local = Path(repo).expanduser()
        if not local.is_absolute():
            local = (base / local).resolve()
        src = local.as_uri()  # file:// so that --depth applies to local clones too
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    try:
        proc = subprocess.run(["git", "clone", "--quiet", "--depth", "1", src, str(dest)],
                              capture_output=True, text=True, timeout=120, env=env)  # fmt: skip
    except subprocess.TimeoutExpired:
        return "git clone took longer than 120 s"
    if proc.returncode != 0:
        return (proc.stderr.strip().splitlines() or ["git clone failed"])[-1]
    return None


def discover(submissions: Path, catalog: Catalog, workdir: Path,
             labs: list[str] | None = None) -> list[Task]:  # fmt: skip
    """Every (student, lab) of the submissions, in a stable order."""
    # Each lab once, whatever the command line repeats (`--lab crud --lab crud`).
    chosen = [catalog.get(i) for i in dict.fromkeys(labs)] if labs else catalog.labs
    students: list[tuple[str, Path | None, str | None]] = []
    if submissions.is_file():
        with submissions.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        if not rows or not {"student", "repo"} <= set(rows[0]):
            raise UsageError(f"{submissions}: a roster CSV needs the columns student,repo.")
        seen: set[str] = set()
        for row in rows:
            name = _student_name(row["student"])
            if name in seen:
                raise UsageError(f"{submissions}: student {name!r} is listed twice.")
            seen.add(name)
            dest = workdir / "clones" / name
            problem = _clone(row["repo"].strip(), dest, submissions.parent)
            students.append((name, None if problem else dest, problem))
    elif submissions.is_dir():
        for sub in sorted(p for p in submissions.iterdir() if p.is_dir()):
            if sub.name.startswith("."):
                continue
            students.append((_student_name(sub.name), sub, None))
        if not students:
            raise UsageError(f"{submissions}: no student folders inside.")
    else:
        raise UsageError(f"{submissions}: no such folder or roster CSV.")
    tasks = []
    for name, root, problem in students:
        for lab in chosen:
            if problem:
                tasks.append(
                    Task(name, lab, problem=("clone_failed", f"git clone failed: {problem}"))
                )
                continue
            src = _lab_dir(root, lab) if root else None
            if src is None:
                tasks.append(Task(name, lab, problem=(
                    "not_submitted", f"No folder {lab.dirname} in this submission: not graded.")))  # fmt: skip
            else:
                tasks.append(Task(name, lab, source=src))
    return tasks


def _payload(task: Task) -> bytes | dict[str, Any]:
    """The job's payload, or the finished result when there is nothing to run."""
    if task.problem:
        return not_graded(task.lab, task.student, *task.problem)
    try:
        return pack(task.source)
    except SubmissionError as exc:
        return not_graded(task.lab, task.student, "bad_submission", f"Refused: {exc}")


# ---------------------------------------------------------------- local


def _run_local(task: Task, payload: bytes, limits: Limits, tmp: Path) -> dict[str, Any]:
    d = Path(tempfile.mkdtemp(prefix="job-", dir=tmp))
    (d / "payload.tgz").write_bytes(payload)
    (d / "limits.json").write_text(json.dumps(limits.as_dict()))
    out = d / "result.json"
    args = [sys.executable, "-m", "checker.grading.jobs", task.student, task.lab.id,
            str(d / "payload.tgz"), str(d / "limits.json"), str(out)]  # fmt: skip
    with open(d / "job.log", "wb") as log:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
    process._LIVE[proc.pid] = proc
    try:
        proc.wait(timeout=limits.wall_s)
    except subprocess.TimeoutExpired:
        process.kill_group(proc, grace=1)
        return not_graded(task.lab, task.student, "timeout",
                          f"Grading took longer than {limits.wall_s:.0f} s and was stopped.")  # fmt: skip
    finally:
        process._LIVE.pop(proc.pid, None)
    if proc.returncode != 0 or not out.exists():
        tail = process.tail(d / "job.log")
        return not_graded(task.lab, task.student, "grader_crashed",
                          f"The grading job failed (exit {proc.returncode}): {tail[-500:]}")  # fmt: skip
    return json.loads(out.read_text())


def grade_local(tasks: list[Task], *, jobs: int, limits: Limits,
                on_result: Callable[[dict[str, Any]], None]) -> Outcome:  # fmt: skip
    """Run the jobs ``jobs`` at a time, each in a process of its own. On Ctrl-C (or
    SIGTERM), every running job is stopped (its service and database too) first."""
    outcome = Outcome()
    t0 = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="lab-grade-jobs-"))
    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        with process.interrupts_raise():
            futures = {}
            for task in tasks:
                payload = _payload(task)
                if isinstance(payload, dict):
                    on_result(payload)
                    outcome.results.append(payload)
                else:
                    futures[pool.submit(_run_local, task, payload, limits, tmp)] = task
            for fut in as_completed(futures):
                result = fut.result()
                on_result(result)
                outcome.results.append(result)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in list(process._LIVE.values()):  # the jobs: each stops its own run
            process.kill_group(proc, grace=5)
        raise
    finally:
        pool.shutdown(wait=True)
        shutil.rmtree(tmp, ignore_errors=True)
    outcome.seconds = time.monotonic() - t0
    return outcome


# ---------------------------------------------------------------- distributed


def grade_rq(tasks: list[Task], *, redis_url: str, limits: Limits,
             on_result: Callable[[dict[str, Any]], None], lease_grace_s: float = 6.0,
             max_attempts: int = 3, timeout_s: float | None = None,
             on_retry: Callable[[Task], None] | None = None,
             on_no_worker: Callable[[], None] | None = None) -> Outcome:  # fmt: skip
    """Enqueue every job for `lab worker`s; collect results; re-enqueue lost jobs."""
    from redis import Redis
    from rq import Queue, Worker
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    conn = Redis.from_url(redis_url)
    conn.ping()
    protect(conn)
    queue = Queue(QUEUE, connection=conn)
    outcome = Outcome()
    t0 = time.monotonic()
    pending: dict[tuple[str, str], tuple[Task, bytes, list[str]]] = {}

    def enqueue(task: Task, payload: bytes) -> str:
        job = queue.enqueue("checker.grading.jobs.rq_grade", task.student, task.lab.id, payload,
                            limits.as_dict(), job_timeout=int(limits.wall_s), result_ttl=86400,
                            failure_ttl=86400, description=f"{task.student} · {task.lab.id}")  # fmt: skip
        return job.id

    for task in tasks:
        payload = _payload(task)
        if isinstance(payload, dict):
            on_result(payload)
            outcome.results.append(payload)
        else:
            pending[task.key] = (task, payload, [enqueue(task, payload)])
    deadline = time.monotonic() + (timeout_s or max(600.0, limits.wall_s * len(pending)))
    warn_at = time.monotonic() + 3.0
    signals = contextlib.ExitStack()
    signals.enter_context(process.interrupts_raise())  # SIGTERM too ends in `finally`
    try:
        while pending:
            if warn_at and time.monotonic() > warn_at:
                warn_at = 0.0
                if on_no_worker and not Worker.count(connection=conn):
                    on_no_worker()
            if time.monotonic() > deadline:
                raise UsageError(f"Grading timed out with {len(pending)} jobs unfinished: are "
                                 f"`lab worker --redis {redis_url}` processes running?")  # fmt: skip
            for key in list(pending):
                task, payload, ids = pending[key]
                done = None
                for job_id in ids:
                    try:
                        job = Job.fetch(job_id, connection=conn)
                    except NoSuchJobError:
                        continue
                    status = job.get_status()
                    if status == JobStatus.FINISHED:
                        done = job.return_value()
                        break
                if done is not None:
                    on_result(done)
                    outcome.results.append(done)
                    del pending[key]
                    for other in ids:  # a duplicate attempt still queued is not needed
                        _cancel(conn, other)
                    continue
                try:
                    current = Job.fetch(ids[-1], connection=conn)
                except NoSuchJobError:  # deleted or expired from Redis: lost as well
                    current = None
                if current is None or _lost(conn, current, lease_grace_s):
                    if len(ids) >= max_attempts:
                        result = not_graded(task.lab, task.student, "grader_lost",
                                            f"Grading did not finish in {len(ids)} attempts (the workers died or the job ran out of time).")  # fmt: skip
                        on_result(result)
                        outcome.results.append(result)
                        del pending[key]
                        continue
                    _cancel(conn, ids[-1])
                    ids.append(enqueue(task, payload))
                    outcome.retried += 1
                    if on_retry:
                        on_retry(task)
            time.sleep(0.25)
    finally:
        for *_, ids in pending.values():  # interrupted: nothing stays queued
            for job_id in ids:
                _cancel(conn, job_id)
        conn.close()
        signals.close()
    outcome.seconds = time.monotonic() - t0
    return outcome


def protect(conn) -> None:
    """Keep the queue's Redis database non-empty: `lab check` leases only empty databases
    (and flushes them afterwards), so a check run on the same server never takes it."""
    conn.set(QUEUE_MARKER, "the queue of lab grade / lab worker")


def _lost(conn, job, grace_s: float) -> bool:
    """A job whose worker is gone: failed (not by its own code: rq_grade never raises on
    a learner's mistake), or started but its lease lapsed."""
    from rq.job import JobStatus

    status = job.get_status()
    if status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
        return True
    if status == JobStatus.STARTED:
        started = job.started_at
        if started is None:
            return False
        age = (datetime.now(UTC) - started.replace(tzinfo=UTC)).total_seconds()
        return age > grace_s and not conn.exists(LEASE_PREFIX + job.id)
    return False


def _cancel(conn, job_id: str) -> None:
    from rq.job import Job

    try:
        job = Job.fetch(job_id, connection=conn)
        if job.get_status() in ("queued", "deferred", "scheduled"):
            job.cancel()
    except Exception:  # noqa: BLE001,S110 - it is gone already
        pass


def new_batch() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(2)

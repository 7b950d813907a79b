"""One grading job: one student's copy of one lab, checked by the trusted checker.

A job carries the learner's lab folder as a small tar.gz (so an RQ worker on another
machine needs nothing but the course and Redis). It is unpacked into a fresh temporary
folder and checked with the *grader's* catalog and hidden checks: the submission's own
lab.toml, checker/ and anything outside its lab folder are never read. Symlinks,
devices and paths escaping the folder are refused when packing and again when
unpacking. The learner's service runs under the limits of the job (address space,
start-up and check time).

`lab grade` runs jobs locally as ``python -m checker.grading.jobs`` processes (one per
job, killed with their process group on timeout), or enqueues :func:`rq_grade` for
`lab worker`.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..catalog import Catalog, Lab
from ..errors import RunErrorKind
from ..results import CheckResult, RunError, RunResult

MAX_BYTES = 20 << 20  # a lab folder bigger than this is not a lab
SKIP_DIRS = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".venv", "venv", ".lab",
             ".git", "node_modules", ".mypy_cache", ".ruff_cache"}  # fmt: skip
LEASE_PREFIX = "lab:grade:lease:"
LEASE_TTL_MS = 4000


@dataclass
class Limits:
    memory_mb: int = 2048  # address space of each learner process
    start_timeout_s: float = 20.0
    checks_timeout_s: float = 120.0

    def as_dict(self) -> dict[str, Any]:
        return {"memory_mb": self.memory_mb, "start_timeout_s": self.start_timeout_s,
                "checks_timeout_s": self.checks_timeout_s}  # fmt: skip

    @property
    def wall_s(self) -> float:
        """How long a whole job may take before it is killed."""
        return self.start_timeout_s + self.checks_timeout_s + 60


class SubmissionError(Exception):
    pass


def pack(lab_dir: Path) -> bytes:
    """The learner's lab folder as tar.gz: regular files only, no lab.toml, no caches."""
    buf = io.BytesIO()
    total = 0
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for dirpath, dirnames, filenames in os.walk(lab_dir, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS
                                 and not os.path.islink(os.path.join(dirpath, d)))  # fmt: skip
            for name in sorted(filenames):
                full = Path(dirpath) / name
                rel = full.relative_to(lab_dir)
                if rel.as_posix() == "lab.toml" or full.is_symlink() or not full.is_file():
                    continue
                if name.endswith((".pyc", ".pyo")):
                    continue
                total += full.stat().st_size
                if total > MAX_BYTES:
                    raise SubmissionError(
                        f"the lab folder is larger than {MAX_BYTES >> 20} MB (not graded)"
                    )
                tar.add(full, arcname=rel.as_posix(), recursive=False)
    return buf.getvalue()


def unpack(payload: bytes, dest: Path) -> None:
    dest.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(payload), mode="r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile() and not member.isdir():
                raise SubmissionError(f"{member.name}: only files and folders are accepted")
        tar.extractall(dest, filter="data")  # refuses absolute paths and ../ escapes


def not_graded(lab: Lab, student: str, kind: str, message: str) -> dict[str, Any]:
    """The result of a lab that could not be checked at all (not submitted, clone failed)."""
    run = RunResult(lab=lab.id, target=f"{student}:{lab.dirname}",
                    started_at=datetime.now(UTC).isoformat(timespec="seconds"))  # fmt: skip
    run.error = RunError(RunErrorKind(kind), message)  # an unknown kind is a bug
    for c in lab.checks:
        run.checks.append(CheckResult(c.id, c.title, "error", c.points, message, bonus=c.bonus))
    run.settle()
    return {**run.to_dict(), "student": student}


def grade_payload(student: str, lab_id: str, payload: bytes, limits: dict[str, Any]) -> dict:
    """Check one submission with this machine's trusted checker; returns the result dict."""
    from .. import runner
    from ..paths import state_dir
    from ..workspace import Workspace

    catalog = Catalog()
    lab = catalog.get(lab_id)
    lim = Limits(**limits)
    tmp = Path(tempfile.mkdtemp(prefix=f"lab-grade-{lab.id}-"))
    try:
        try:
            unpack(payload, tmp / lab.dirname)
        except (SubmissionError, tarfile.TarError) as exc:
            return not_graded(lab, student, "bad_submission", f"The submission was refused: {exc}")
        os.environ["LAB_MEMORY_MB"] = str(lim.memory_mb)  # the sandbox's limit
        ws = Workspace(tmp / lab.dirname, f"{student}:{lab.dirname}")
        opts = runner.RunOptions(start_timeout_s=lim.start_timeout_s,
                                 checks_timeout_s=lim.checks_timeout_s)  # fmt: skip
        result = runner.run(lab, ws, state=state_dir(catalog.root), options=opts)
        return {**result.to_dict(), "student": student}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- RQ side


def rq_grade(student: str, lab_id: str, payload: bytes, limits: dict[str, Any]) -> dict:
    """The RQ job: holds a lease (a Redis key refreshed every second) while it grades,
    so `lab grade` sees within seconds when a worker dies and re-runs the job."""
    from rq import get_current_job

    job = get_current_job()
    stop = threading.Event()
    if job is not None:
        conn, key = job.connection, LEASE_PREFIX + job.id

        def renew() -> None:
            while not stop.is_set():
                with contextlib.suppress(Exception):
                    conn.set(key, os.getpid(), px=LEASE_TTL_MS)
                stop.wait(1.0)

        conn.set(key, os.getpid(), px=LEASE_TTL_MS)
        threading.Thread(target=renew, daemon=True).start()
    try:
        return grade_payload(student, lab_id, payload, limits)
    finally:
        stop.set()
        if job is not None:
            with contextlib.suppress(Exception):
                job.connection.delete(LEASE_PREFIX + job.id)


# ---------------------------------------------------------------- local side


def main(argv: list[str] | None = None) -> int:
    """``python -m checker.grading.jobs STUDENT LAB PAYLOAD.tgz LIMITS.json OUT.json``"""
    student, lab_id, payload, limits, out = argv or sys.argv[1:]
    result = grade_payload(student, lab_id, Path(payload).read_bytes(),
                           json.loads(Path(limits).read_text()))  # fmt: skip
    Path(out).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

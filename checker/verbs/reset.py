"""`lab reset`: put a lab back as shipped, keeping a backup of the learner's work.

The shipped version is the one git has at HEAD for that folder (the course is a git
repository: a clone of the course or of a classroom assignment). Before anything is
discarded, the current folder is copied to ``.lab/backups/`` and the user is asked.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from ..catalog import Lab
from ..errors import UsageError
from ..workspace import IGNORE


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=60
    )


def changed_files(lab: Lab) -> list[str]:
    rel = str(lab.path.relative_to(lab.root))
    probe = _git(lab.root, "rev-parse", "--verify", "HEAD")
    if probe.returncode != 0:
        raise UsageError(
            "`lab reset` needs the course to be a git repository (it restores the lab "
            "from git). Your files were not touched."
        )
    res = _git(lab.root, "status", "--porcelain", "--untracked-files=all", "--", rel)
    lines = [line[3:] for line in res.stdout.splitlines() if line.strip()]
    return [p for p in lines if "__pycache__" not in p]


def backup(lab: Lab, state: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    dest = state / "backups" / f"{lab.dirname}-{stamp}"
    shutil.copytree(lab.path, dest, ignore=IGNORE)
    return dest


def reset(lab: Lab, state: Path) -> Path:
    rel = str(lab.path.relative_to(lab.root))
    saved = backup(lab, state)
    restore = _git(lab.root, "checkout", "HEAD", "--", rel)
    if restore.returncode != 0:
        raise UsageError(f"git could not restore {rel}: {restore.stderr.strip()}")
    _git(lab.root, "clean", "-fdq", "--", rel)
    return saved

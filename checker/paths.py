"""Where the course lives and where the checker keeps its state.

The course root is the folder holding ``labs/``: ``LAB_COURSE_DIR`` if set, else the
nearest parent of the current directory with a ``labs/`` folder, else the folder the
checker package was installed from (an editable install of this repository). State
lives in ``.lab/`` at the course root; ``LAB_HOME`` moves it. Nothing goes to ``$HOME``.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import CourseNotFound

PACKAGE_DIR = Path(__file__).resolve().parent
CHECKS_DIR = PACKAGE_DIR / "checks"


def checks_dir() -> Path:
    """Where hidden checks live: the installed package's ``checks/`` (trusted), or
    ``LAB_CHECKS_DIR`` for course authors and the project's own fixture courses."""
    env = os.environ.get("LAB_CHECKS_DIR")
    return Path(env).resolve() if env else CHECKS_DIR


def _is_course(path: Path) -> bool:
    return (path / "labs").is_dir() and any((path / "labs").glob("*/lab.toml"))


def course_root(start: Path | None = None) -> Path:
    env = os.environ.get("LAB_COURSE_DIR")
    if env:
        root = Path(env).resolve()
        if not (root / "labs").is_dir():
            raise CourseNotFound(f"LAB_COURSE_DIR={env} has no labs/ folder.")
        return root
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if _is_course(candidate):
            return candidate
    installed = PACKAGE_DIR.parent
    if _is_course(installed):
        return installed
    raise CourseNotFound(
        "Could not find the course: run `lab` inside the Backend Lab folder "
        "(the one with labs/), or set LAB_COURSE_DIR."
    )


def state_dir(root: Path | None = None) -> Path:
    env = os.environ.get("LAB_HOME")
    path = Path(env).resolve() if env else (root or course_root()) / ".lab"
    path.mkdir(parents=True, exist_ok=True)
    return path

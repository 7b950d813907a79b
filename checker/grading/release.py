"""`lab release --out DIR`: the student edition of the course.

What a learner gets: the labs (starter code, tasks, public tests), the notebooks, the
docs, and the checker with the hidden checks they may run. Left out: solutions/ (with
each lab's bugs.toml, whose mutations spell out the fixes), the project's own tests
(scenarios show the fixes), the instructor's and the authors' tools (``checker/grading``,
``checker/authoring``), benchmarks and CI, and the test file of every check marked ``visibility = "after_grading"``. Such a check
keeps its manifest entry (its name, points and hints); without its test the edition's
own runs leave it out, and only `lab grade`, with the instructor's checker, runs it.

It is a plain path filter: every file that ships is copied byte for byte.

The files come from ``git ls-files`` when the course is a git checkout (so nothing
untracked, generated or secret leaks), else from a walk that skips state and caches.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ..catalog import Catalog, Lab, checks_of_file, load_lab
from ..errors import UsageError

#: Top-level paths that never ship (instructor material).
LEFT_OUT_TOP = ("solutions", "tests", "benchmarks", ".ci", ".github", "test-artifacts")
#: Paths inside the course that never ship.
LEFT_OUT_PATHS = ("checker/grading", "checker/authoring")
SKIP_PARTS = {".lab", ".venv", "venv", "__pycache__", ".git", ".pytest_cache", ".ruff_cache",
              "site", "build", "dist", ".ipynb_checkpoints"}  # fmt: skip
__all__ = ["Release", "checks_of_file", "release"]


@dataclass
class Release:
    out: Path
    files: int = 0
    labs: list[str] = field(default_factory=list)
    bugs_files: int = 0  # solutions/*/bugs.toml left out with solutions/
    hidden_checks: dict[str, list[str]] = field(default_factory=dict)  # lab -> check ids
    removed_check_files: list[str] = field(default_factory=list)


def _tracked(root: Path) -> list[Path]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root, capture_output=True, check=True, timeout=60,
        ).stdout  # fmt: skip
        files = [Path(p.decode()) for p in out.split(b"\0") if p]
        return [p for p in files if (root / p).is_file()]
    except (OSError, subprocess.CalledProcessError):
        return [p.relative_to(root) for p in root.rglob("*") if p.is_file()]


def _ships(rel: Path) -> bool:
    parts = rel.parts
    if not parts or parts[0] in LEFT_OUT_TOP or SKIP_PARTS & set(parts):
        return False
    posix = rel.as_posix()
    if any(posix == p or posix.startswith(p + "/") for p in LEFT_OUT_PATHS):
        return False
    return not (rel.suffix in (".pyc", ".key") or rel.name.startswith(".env"))


def release(root: Path, out: Path, *, force: bool = False) -> Release:
    root = root.resolve()
    out = out.resolve()
    if out == root:
        raise UsageError("--out must be a new folder, not the course itself.")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise UsageError(f"--out {out} exists and is not empty (add --force to replace it).")
        shutil.rmtree(out)
    catalog = Catalog(root)
    labs = catalog.labs  # validates every manifest first: a broken lab never ships
    rel_out = None
    if root in out.parents:
        rel_out = out.relative_to(root)
    rep = Release(out=out, labs=[lab.id for lab in labs])

    checks_src = root / "checker" / "checks"
    drop: set[Path] = set()
    for lab in labs:
        hidden = {c.id for c in lab.checks if c.visibility == "after_grading"}
        if not hidden:
            continue
        rep.hidden_checks[lab.id] = sorted(hidden)
        folder = checks_src / lab.checks_package
        for f in sorted(folder.glob("test_*.py")):
            ids = checks_of_file(f)
            if ids and ids <= hidden:
                drop.add(f.relative_to(root))
                rep.removed_check_files.append(f.relative_to(root).as_posix())
            elif ids & hidden:
                raise UsageError(
                    f"{f.relative_to(root)} mixes grading-only checks "
                    f"({', '.join(sorted(ids & hidden))}) with visible ones "
                    f"({', '.join(sorted(ids - hidden))}): put the grading-only checks in a "
                    "file of their own, so the student edition can leave it out."
                )

    rep.bugs_files = sum(1 for lab in labs if lab.bugs_path.is_file())
    out.mkdir(parents=True, exist_ok=True)
    for rel in _tracked(root):
        if rel_out is not None and (rel == rel_out or rel_out in rel.parents):
            continue
        if not _ships(rel) or rel in drop:
            continue
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, dest)
        rep.files += 1
    _verify(out, labs)
    return rep


def _verify(out: Path, labs: list[Lab]) -> None:
    """The edition's labs load without their bugs and run exactly the visible checks."""
    for lab in labs:
        shipped = load_lab(out / "labs" / lab.dirname, out)
        visible = [c.id for c in lab.checks if c.visibility != "after_grading"]
        if shipped.bugs or (out / "solutions").exists():
            raise AssertionError(f"release: the planted bugs of {lab.id} shipped")
        if [c.id for c in shipped.checks if c.id in visible] != visible:
            raise AssertionError(f"release: visible checks of {lab.id} went missing")
        folder = out / "checker" / "checks" / lab.checks_package
        shipped_tests = set().union(*(checks_of_file(f) for f in folder.glob("test_*.py")))
        if (shipped_tests - set(visible)) & {c.id for c in lab.checks}:
            raise AssertionError(f"release: a grading-only check of {lab.id} shipped its test")

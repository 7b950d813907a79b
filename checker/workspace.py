"""What a run checks: the learner's lab folder, a folder given with ``--path``, or a
composed copy (starter + solution overlay, plus scenario overlays or mutations, used by
``--solution`` and the self-verification).

Composed copies live in a temporary folder removed afterwards; the learner's own
folder is only ever read (the service runs with PYTHONDONTWRITEBYTECODE=1).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .catalog import Lab, Mutation
from .errors import WorkspaceError
from .manifest import BUGS_FILE

#: How results name a run of the reference solution (the progress store leaves them out).
REFERENCE_SUFFIX = " + solution"

IGNORE = shutil.ignore_patterns(
    "__pycache__", "*.pyc", ".pytest_cache", ".ipynb_checkpoints", ".venv", ".lab"
)


@dataclass
class Workspace:
    path: Path
    target: str  # how results name it
    temporary: bool = False

    def cleanup(self) -> None:
        if self.temporary:
            shutil.rmtree(self.path.parent, ignore_errors=True)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path.resolve())


def for_lab(lab: Lab, path: Path | None = None) -> Workspace:
    """The learner's folder (default ``labs/NN-id``) or the one given with ``--path``."""
    if path is None:
        return Workspace(lab.path, _relative(lab.path, lab.root))
    path = path.expanduser()
    if not path.is_dir():
        raise WorkspaceError(f"--path {path}: no such folder.")
    module = lab.app.split(":", 1)[0].replace(".", "/")
    if not ((path / f"{module}.py").exists() or (path / module / "__init__.py").exists()):
        raise WorkspaceError(
            f"--path {path}: this folder does not look like lab {lab.id!r} "
            f"(expected {module}.py inside it)."
        )
    return Workspace(path.resolve(), _relative(path, lab.root))


def compose(
    lab: Lab,
    *,
    solution: bool = True,
    overlays: Iterable[Path] = (),
    mutations: Iterable[Mutation] = (),
    base: Path | None = None,
    target: str | None = None,
) -> Workspace:
    """A temporary copy: the starter (or ``base``), the solution overlay, then
    ``overlays`` in order, then ``mutations`` applied to the composed files."""
    tmp = Path(tempfile.mkdtemp(prefix=f"lab-{lab.id}-"))
    dest = tmp / lab.dirname
    shutil.copytree(base or lab.path, dest, ignore=IGNORE)
    layers = []
    if solution:
        if not lab.solution_path.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
            raise WorkspaceError(
                f"Lab {lab.id!r} has no reference solution here ({lab.solution_path}). "
                "A student edition ships without solutions."
            )
        layers.append(lab.solution_path)
    layers.extend(overlays)
    for layer in layers:
        ignore = _solution_ignore if layer == lab.solution_path else IGNORE
        shutil.copytree(layer, dest, ignore=ignore, dirs_exist_ok=True)
    for m in mutations:
        try:
            apply_mutation(dest, m)
        except WorkspaceError:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    name = target or (
        f"{_relative(lab.path, lab.root)}{REFERENCE_SUFFIX}" if solution else "composed"
    )
    return Workspace(dest, name, temporary=True)


def _solution_ignore(folder: str, names: list[str]) -> set[str]:
    """The solution overlay's own bugs.toml (authors' data) never lands in a workspace."""
    skip = set(IGNORE(folder, names))
    if BUGS_FILE in names and Path(folder).parent.name == "solutions":
        skip.add(BUGS_FILE)
    return skip


def apply_mutation(root: Path, m: Mutation) -> None:
    file = root / m.file
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WorkspaceError(f"mutation: {m.file} does not exist in the composed lab") from None
    count = text.count(m.find)
    if count != 1:
        raise WorkspaceError(
            f"mutation: {m.find!r} occurs {count} times in {m.file} (it must occur exactly once)"
        )
    file.write_text(text.replace(m.find, m.replace), encoding="utf-8")

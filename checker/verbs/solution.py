"""`lab solution`: after a pass, the reference solution as a diff against your code."""

from __future__ import annotations

import difflib
from pathlib import Path

from ..catalog import Lab
from ..errors import UsageError


def reference_diff(lab: Lab, learner: Path | None = None) -> str:
    if not lab.solution_path.is_dir():
        raise UsageError(f"This edition of the course has no reference solution for {lab.id!r}.")
    learner = learner or lab.path
    chunks = []
    for ref in lab.solution_files():
        rel = ref.relative_to(lab.solution_path)
        mine = learner / rel
        a = mine.read_text(encoding="utf-8").splitlines(keepends=True) if mine.exists() else []
        b = ref.read_text(encoding="utf-8").splitlines(keepends=True)
        diff = difflib.unified_diff(a, b, f"yours/{rel}", f"reference/{rel}")
        chunks.append("".join(diff))
    return "".join(chunks)

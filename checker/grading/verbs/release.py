"""`lab release --out DIR`: write the student edition (checker.grading.release)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import console


def register(app: typer.Typer) -> None:
    @app.command(rich_help_panel="Instructor")
    def release(
        out: Annotated[Path, typer.Option("--out", help="Folder to write the edition to.")],
        force: Annotated[bool, typer.Option("--force", help="Replace --out if it exists.")] = False,
    ) -> None:
        """Write the student edition: no solutions, scenarios, planted-bug list, grading-only
        checks or instructor files."""
        from ...paths import course_root
        from ..release import release as build

        rep = build(course_root(), out, force=force)
        console.print(f"[green]Student edition written to {rep.out}[/] ({rep.files} files, "
                      f"labs: {', '.join(rep.labs)})")  # fmt: skip
        console.print(f"  left out: solutions/ (with {rep.bugs_files} bugs.toml: their mutations "
                      "show the fixes), tests/, benchmarks/, checker/grading/", markup=False)  # fmt: skip
        for lab, ids in rep.hidden_checks.items():
            console.print(f"  grading-only checks of {lab}: {', '.join(ids)} (run by `lab grade`)")

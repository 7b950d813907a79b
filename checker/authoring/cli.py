"""The authors' commands: `lab new` and `lab dev check` (registered by ``checker.cli``)."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console

console = Console(highlight=False)


def register(app: typer.Typer) -> None:
    dev_app = typer.Typer(help="Tools for course authors.", no_args_is_help=True)
    app.add_typer(dev_app, name="dev", rich_help_panel="Authors")

    @app.command(rich_help_panel="Authors")
    def new(
        lab_id: Annotated[
            str, typer.Argument(metavar="ID", help="The new lab's id (e.g. rate-limits).")
        ],
        title: Annotated[str | None, typer.Option(help="Its title (default: from the id).")] = None,
        order: Annotated[
            int | None, typer.Option(help="Its place in the course (default: last).")
        ] = None,
    ) -> None:
        """Scaffold a lab: every folder it needs, with a skeleton that passes its own
        self-verification."""
        from ..paths import course_root
        from .scaffold import new_lab

        root = course_root()
        files = new_lab(root, lab_id, title=title, order=order)
        console.print(f"[green]Lab {lab_id!r} scaffolded[/] ({len(files)} files):")
        for rel in files:
            console.print(f"  {rel.as_posix()}")
        console.print(
            f"Next: `lab dev check {lab_id}` (seconds), then "
            f"`pytest tests/test_selfcheck.py -k {lab_id}` (runs every check). "
            "The guide: docs/authoring.md."
        )

    @dev_app.command("check")
    def dev_check(
        lab_ids: Annotated[
            list[str] | None,
            typer.Argument(metavar="[ID]...", help="Labs to check (default: all)."),
        ] = None,
    ) -> None:
        """The fast, static part of the self-verification: manifests, tests, hints, bugs,
        notebooks, docs pages and scenarios. Exit 1 if anything is wrong."""
        from ..paths import course_root
        from .devcheck import dev_check as run

        t0 = time.perf_counter()
        reports = run(course_root(), lab_ids)
        for rep in reports:
            mark = "[green]✔[/]" if rep.ok else "[red]✘[/]"
            console.print(f"{mark} {rep.lab}")
            for problem in rep.problems:
                console.print(f"    {problem}", markup=False)
            for note in rep.notes:
                console.print(f"    [dim]to do: {note}[/]")
        bad = sum(1 for rep in reports if not rep.ok)
        took = time.perf_counter() - t0
        console.print(f"{len(reports)} labs checked in {took:.1f} s: "
                      + (f"[red]{bad} with problems[/]" if bad else "[green]all good[/]"))  # fmt: skip
        if bad:
            raise typer.Exit(1)

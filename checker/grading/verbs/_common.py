"""What the instructor's verbs share: their consoles, the --db option, a result's cell."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

console = Console(highlight=False)
err = Console(stderr=True, highlight=False)

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Gradebook database URL (default: a SQLite file in "
        ".lab/instructor/; postgresql://... for PostgreSQL).",
    ),  # fmt: skip
]


def cell(result: dict) -> str:
    mark = {"pass": "[green]✔[/]", "fail": "[yellow]✘[/]"}.get(result["status"], "[red]![/]")
    return f"{result['score']}/{result['max_score']} {mark}"

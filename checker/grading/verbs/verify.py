"""`lab verify FILE`: check a signed result's or an export's signature."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import console, err


def register(app: typer.Typer) -> None:
    @app.command(rich_help_panel="Instructor")
    def verify(
        file: Annotated[
            Path,
            typer.Argument(help="A signed result (JSON) or an export with its .sig beside it."),
        ],  # fmt: skip
    ) -> None:
        """Check a result's or an export's signature: exit 0 genuine, 1 edited or forged."""
        from ..signing import VerifyError, load_key, verify_path

        try:
            what = verify_path(file, load_key(create=False))
        except VerifyError as exc:
            err.print(f"[bold red]REJECTED[/] {exc.message}")
            raise typer.Exit(1) from None
        console.print(f"[green]OK[/] {what}")

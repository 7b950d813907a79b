"""`lab gradebook export`: best score per student and lab, as CSV or for Gradescope."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import DbOpt, console


def register(app: typer.Typer) -> None:
    gradebook_app = typer.Typer(help="The gradebook of every graded run.", no_args_is_help=True)
    app.add_typer(gradebook_app, name="gradebook", rich_help_panel="Instructor")

    @gradebook_app.command("export")
    def gradebook_export(
        fmt: Annotated[str, typer.Option("--format", "-f", help="csv or gradescope.")] = "csv",
        out: Annotated[
            Path | None,
            typer.Option(
                "--out", "-o", help="Write here (and sign it in OUT.sig); default: print."
            ),
        ] = None,  # fmt: skip
        db: DbOpt = None,
    ) -> None:
        """Best score per student and lab, as CSV for an LMS or for Gradescope."""
        from ...errors import UsageError
        from ..gradebook import Gradebook
        from ..signing import load_key, sign_file

        if fmt not in ("csv", "gradescope"):
            raise UsageError(f"--format {fmt!r} is not one of: csv, gradescope.")
        book = Gradebook(db)
        text = book.export_csv() if fmt == "csv" else book.export_gradescope()
        book.close()
        if out is None:
            print(text, end="")
            return
        out.write_text(text, encoding="utf-8")
        sig = sign_file(out, load_key())
        console.print(f"Wrote {out} and its signature {sig.name} (`lab verify {out}` checks it).")

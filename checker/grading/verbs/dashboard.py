"""`lab dashboard` and `lab dashboard-token`: the class's web page (checker.grading.dashboard)."""

from __future__ import annotations

from typing import Annotated

import typer

from ._common import DbOpt, console


def register(app: typer.Typer) -> None:
    @app.command(rich_help_panel="Instructor")
    def dashboard(
        port: Annotated[int, typer.Option(help="Port.")] = 8050,
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        db: DbOpt = None,
    ) -> None:
        """Serve the class dashboard: students x labs, each check's history, the hardest
        checks. Prints the instructor password and how to make student links."""
        import uvicorn

        from ..dashboard import create_app, instructor_password
        from ..signing import load_dashboard_secret

        key = load_dashboard_secret()  # never the signing key
        console.print(f"Dashboard on http://{host}:{port}/  ·  instructor password: "
                      f"[bold]{instructor_password(key)}[/]")  # fmt: skip
        console.print("[dim]A student's link: `lab dashboard-token STUDENT`.[/]")
        uvicorn.run(create_app(key, db), host=host, port=port, log_level="warning")

    @app.command("dashboard-token", rich_help_panel="Instructor")
    def dashboard_token(
        student: Annotated[str, typer.Argument(help="The student's name.")],
    ) -> None:
        """Print a student's dashboard token (it shows only their own rows)."""
        from ..dashboard import student_token
        from ..signing import load_dashboard_secret

        console.print(student_token(load_dashboard_secret(), student))

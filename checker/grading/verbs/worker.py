"""`lab worker --redis URL`: run grading jobs that `lab grade --redis` enqueues."""

from __future__ import annotations

from typing import Annotated

import typer

from ._common import console


def register(app: typer.Typer) -> None:
    @app.command(rich_help_panel="Instructor")
    def worker(
        redis_url: Annotated[
            str, typer.Option("--redis", help="The Redis `lab grade --redis` enqueues on.")
        ],  # fmt: skip
        burst: Annotated[
            bool, typer.Option("--burst", help="Exit once the queue is empty.")
        ] = False,
        name: Annotated[str | None, typer.Option(help="This worker's name.")] = None,
    ) -> None:
        """Run grading jobs from `lab grade --redis URL` (one at a time; start several)."""
        from ..worker import work

        work(redis_url, burst=burst, name=name, console=console)

"""`lab check`: one run, rendered as text, JSON, Gradescope or JUnit."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from .. import runner
from ..catalog import Catalog
from ..errors import UsageError
from ..paths import state_dir
from ..progress import Progress
from ..report import LiveReport, print_summary
from ..results import RunResult
from ..workspace import compose, for_lab
from .common import find_lab

FORMATS = ("text", "json", "gradescope", "junit")


def check(
    lab_id: str,
    *,
    path: Path | None = None,
    solution: bool = False,
    fmt: str = "text",
    output: Path | None = None,
    console: Console | None = None,
    options: runner.RunOptions | None = None,
) -> RunResult:
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r} is not one of: {', '.join(FORMATS)}.")
    if path is not None and solution:
        raise UsageError("--path and --solution cannot be used together.")
    catalog = Catalog()
    lab = find_lab(lab_id, catalog)
    state = state_dir(catalog.root)
    console = console or Console(highlight=False)
    ws = compose(lab) if solution else for_lab(lab, path)
    listener = LiveReport(console, lab, ws.target) if fmt == "text" else None
    if listener is not None and first_setup(state):
        console.print(
            "[dim]First check here: setting up PostgreSQL under .lab/ (once; a few seconds).[/]"
        )
    with ws:
        result = runner.run(lab, ws, state=state, options=options, listener=listener)
    progress = Progress(state)
    progress.record(result)
    if listener is not None:  # `lab hint` goes on from the hints this report showed
        for check_id, kind in listener.hinted.items():
            progress.hint_seen(lab.id, hint_key(check_id, kind))
    rendered = {
        "json": result.to_json,
        "gradescope": result.to_gradescope,
        "junit": result.to_junit,
    }.get(fmt)
    if fmt == "text":
        print_summary(console, result, printed=listener.printed, lab=lab)
        console.print(
            "[dim]Advisory: your grade is what the course's checker measures on your submission.[/]"
        )
    elif output is not None:
        output.write_text(rendered() + "\n", encoding="utf-8")
    else:
        print(rendered())
    return result


def first_setup(state: Path) -> bool:
    """True before the embedded PostgreSQL's first start under this state folder."""
    from ..services import providers
    from ..services.embedded import EmbeddedPostgres

    try:
        pg = providers(state).postgres
    except Exception:
        return False  # a bad LAB_SERVICES: the run itself says so
    return isinstance(pg, EmbeddedPostgres) and not (pg.data / "PG_VERSION").exists()


def hint_key(check_id: str, kind: str = "") -> str:
    """Hints seen are counted per check, and per failure kind when the check names one."""
    return f"{check_id}#{kind}" if kind else check_id

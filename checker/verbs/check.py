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
    lab = catalog.get(lab_id)
    state = state_dir(catalog.root)
    console = console or Console(highlight=False)
    ws = compose(lab) if solution else for_lab(lab, path)
    listener = LiveReport(console, lab, ws.target) if fmt == "text" else None
    with ws:
        result = runner.run(lab, ws, state=state, options=options, listener=listener)
    Progress(state).record(result)
    rendered = {
        "json": result.to_json,
        "gradescope": result.to_gradescope,
        "junit": result.to_junit,
    }.get(fmt)
    if fmt == "text":
        print_summary(console, result, printed=listener.printed)
        console.print(
            "[dim]This result is advisory: your grade is what the course's checker measures "
            "on the work you submit.[/]"
        )
    elif output is not None:
        output.write_text(rendered() + "\n", encoding="utf-8")
    else:
        print(rendered())
    return result

"""The `lab` command: a thin layer of typer over the verbs in ``checker.verbs``.

Exit codes (DESIGN.md): 0 all checks passed, 1 some check failed, 2 the run could not
be judged, 3 a usage mistake (unknown lab, bad option, malformed lab.toml).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from .errors import LabError, UsageError
from .results import EXIT_USAGE
from .shell import lab_command, make_console, missing_extra, print_table

try:  # typer >= 0.25 carries its own copy of click
    from typer._click import exceptions as click_exc
except ImportError:  # pragma: no cover - older typer on plain click
    from click import exceptions as click_exc

app = typer.Typer(
    name="lab",
    help="Backend Lab: repair real backend services; `lab check` grades them against real "
    "PostgreSQL and Redis.\n\nStart with `lab list`, then `lab check <lab>`.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
services_app = typer.Typer(
    help="The PostgreSQL and Redis servers checks run against (embedded by default).",
    no_args_is_help=True,
)
app.add_typer(services_app, name="services")

console: Console = make_console()
err: Console = make_console(stderr=True)

LabId = Annotated[
    str,
    typer.Argument(
        metavar="LAB", help="The lab, as `lab list` shows it: its id or number (crud, 01)."
    ),
]
PathOpt = Annotated[
    Path | None,
    typer.Option("--path", help="Check this folder instead of labs/NN-<lab> (a copy of the lab)."),
]


def _state():
    from .paths import course_root, state_dir

    return state_dir(course_root())


@app.command("list")
def list_() -> None:
    """List the labs, in course order, with your best score so far."""
    from .catalog import Catalog
    from .progress import Progress

    catalog = Catalog()
    progress = Progress(_state())
    table = Table(box=None, header_style="bold")
    for col in ("#", "lab", "title", "time", "best"):
        table.add_column(col)
    for lab in catalog.labs:
        best = progress.best(lab.id)
        score = f"{best.score}/{best.max_score}" if best else "–"
        if best and best.status == "pass":
            score = f"[green]{score} ✔[/]"
        table.add_row(f"{lab.order:02d}", lab.id, lab.title, f"{lab.minutes} min", score)
    print_table(console, table)
    console.print(
        f"\n[dim]Run `{lab_command('check <lab>')}` to grade one; "
        f"`{lab_command('docs')}` opens the course site.[/]"
    )


@app.command()
def check(
    lab_id: LabId,
    path: PathOpt = None,
    solution: Annotated[
        bool, typer.Option("--solution", help="Check the reference solution (starter + overlay).")
    ] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="text, json, gradescope or junit.")
    ] = "text",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the json/gradescope/junit here.")
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(help="Replay a run's probe values (its result's \"seed\").", min=0),
    ] = None,
    memory_mb: Annotated[
        int | None,
        typer.Option(help="Memory limit of each of your processes, in MB (default 2048).", min=64),
    ] = None,
) -> None:
    """Start your service against real PostgreSQL/Redis and run the lab's hidden checks.

    Exit code 0: every check passed. 1: some failed. 2: the run could not be judged (your service did not start or hung, or the servers were unreachable). 3: a usage mistake.
    """  # noqa: E501
    from .runner import RunOptions
    from .verbs.check import check as run_check

    if memory_mb is not None:
        os.environ["LAB_MEMORY_MB"] = str(memory_mb)  # read by the run's sandbox
    options = RunOptions.from_env()
    if seed is not None:
        options.seed = seed
    result = run_check(
        lab_id, path=path, solution=solution, fmt="json" if json_ else fmt, output=output,
        console=console, options=options,
    )  # fmt: skip
    raise typer.Exit(result.exit_code)


@app.command()
def watch(
    lab_id: LabId,
    path: PathOpt = None,
    poll: Annotated[
        bool, typer.Option("--poll", help="Poll for changes (no file events).")
    ] = False,
) -> None:
    """Re-run `lab check` every time you save a file of the lab (Ctrl-C to stop)."""
    from .verbs.check import check as run_check
    from .verbs.watch import watch as run_watch

    run_watch(
        lab_id, path=path, poll=poll, console=console,
        run_check=lambda: run_check(lab_id, path=path, console=console),
    )  # fmt: skip


@app.command()
def hint(
    lab_id: LabId,
    check_id: Annotated[
        str | None,
        typer.Argument(
            metavar="[CHECK]",
            help="A failing check's id (default: the first failing one). `lab hint LAB "
            "--list` shows them.",
        ),
    ] = None,
    list_: Annotated[
        bool, typer.Option("--list", help="List the failing checks and the hints you've seen.")
    ] = False,
) -> None:
    """The next hint for a failing check of your last run: after the one `lab check` showed."""
    from .progress import Progress
    from .verbs.check import hint_key
    from .verbs.common import find_lab
    from .verbs.hint import ladder, next_hint

    lab = find_lab(lab_id)
    progress = Progress(_state())
    last = progress.last(lab.id)
    if last is None:
        console.print(f"No run of {lab.id!r} yet: run `{lab_command(f'check {lab.id}')}` first.")
        return
    if last.error is not None and not any(c.status in ("pass", "fail") for c in last.checks):
        console.print(
            f"Your last run of {lab.id} could not be judged: "
            f"{escape(last.error.message.replace(' The log below shows why.', ''))}\n"
            f"No check ran, so there is nothing to hint at yet: "
            f"`{lab_command(f'check {lab.id}')}` shows where your service stopped."
        )
        return
    if list_:
        failing = [c for c in last.checks if c.status in ("fail", "error")]
        if not failing:
            console.print(f"[green]Your last run of {lab.id} passed every check.[/]")
        for c in failing:
            total = len(ladder(lab, c))
            seen = min(progress.next_hint_level(lab.id, hint_key(c.id, c.kind)), total)
            console.print(f"  {c.id}  [dim]{escape(c.title)} · hints seen {seen}/{total}[/]")
        return
    try:
        shown = next_hint(lab, last, progress, check_id)
    except LookupError:
        console.print(f"[green]Your last run of {lab.id} passed every check: no hint needed.[/]")
        return
    c = shown.check
    if c.status == "pass":
        console.print(f"[green]{escape(c.title)}: passed in your last run.[/]")
        return
    console.print(f"[bold]{escape(c.title)}[/] [dim]({c.id}{', bonus' if c.bonus else ''})[/]")
    if c.message:
        console.print(Text(c.message, style="red"))
    console.print(f"\n[cyan]Hint {shown.number}/{shown.total}:[/] {escape(shown.hint)}")
    if shown.exhausted:
        console.print(
            "[dim]That was the last hint for this check. The lab's README explains the idea "
            f"behind it; `{lab_command('notebook')}` lets you try requests by hand.[/]"
        )
    if shown.others:
        ids = ", ".join(o.id for o in shown.others[:6]) + (", …" if len(shown.others) > 6 else "")
        console.print(
            f"[dim]Also failing: {ids}. A hint for one: "
            f"`{lab_command(f'hint {lab.id} <check>')}`.[/]"
        )


@app.command()
def reset(
    lab_id: LabId,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Put a lab back as shipped. Your current files are backed up under .lab/backups first."""
    from .verbs import reset as r
    from .verbs.common import find_lab

    lab = find_lab(lab_id)
    changed = r.changed_files(lab)
    if not changed:
        console.print(f"{lab.dirname} is already as shipped: nothing to reset.")
        return
    console.print(f"These files of {lab.dirname} differ from the shipped version:")
    for p in changed:
        console.print(f"  {p}")
    if not yes and not sys.stdin.isatty():
        raise UsageError(
            f"`lab reset` asks before it discards your changes, and there is no terminal to "
            f"ask in: use --yes (`{lab_command(f'reset {lab.id} --yes')}`)."
        )
    if not yes and not typer.confirm("Discard these changes (a backup is kept)?", default=False):
        console.print("Nothing was changed.")
        raise typer.Exit(0)
    saved = r.reset(lab, _state())
    console.print(f"[green]Reset {lab.dirname}.[/] Your previous files are in {saved}")


@app.command()
def solution(lab_id: LabId) -> None:
    """After your lab passes, show the reference solution as a diff against your code."""
    from .progress import Progress
    from .verbs.common import find_lab
    from .verbs.solution import reference_diff

    lab = find_lab(lab_id)
    if not Progress(_state()).ever_passed(lab.id):
        console.print(
            f"The reference for {lab.id!r} unlocks once your own code passes every required "
            f"check (`{lab_command(f'check {lab.id}')}`). Working it out yourself is where the "
            "learning is."
        )
        raise typer.Exit(1)
    diff = reference_diff(lab)
    if not console.is_terminal:
        sys.stdout.write(diff)  # whole lines, for a file, a pipe or a pager
        return
    from rich.syntax import Syntax

    # Long lines wrap (never cropped at the terminal's edge); `| less -R` pages it.
    console.print(
        Syntax(diff, "diff", theme="ansi_dark", background_color="default", word_wrap=True)
    )


@app.command()
def progress() -> None:
    """Your runs so far: best and last score per lab."""
    from .catalog import Catalog
    from .progress import Progress

    catalog = Catalog()
    store = Progress(_state())
    table = Table(box=None, header_style="bold")
    for col in ("lab", "runs", "best", "last", "last run"):
        table.add_column(col)
    for lab in catalog.labs:
        runs = store.history(lab.id)
        if not runs:
            table.add_row(lab.id, "0", "–", "–", "–")
            continue
        best, last = store.best(lab.id), runs[-1]
        table.add_row(
            lab.id, str(len(runs)), f"{best.score}/{best.max_score}",
            f"{last.score}/{last.max_score} {last.status}", last.started_at,
        )  # fmt: skip
    print_table(console, table)
    console.print("[dim]Local results are advisory: your grade is what the course's checker "
                  "measures on your submission.[/]")  # fmt: skip


@services_app.command("up")
def services_up() -> None:
    """Start PostgreSQL and Redis (and keep them running for fast checks)."""
    from .services import providers

    for p in providers(_state()).all():
        with err.status(f"starting {p.name} ({p.kind})…"):
            url = p.ensure()
        from .services import redact

        console.print(f"[green]✔[/] {p.name:8} {p.kind:8} {redact(url)}")
    from .zygote import Zygote

    for trusted in (False, True):  # makes the next `lab check` start faster
        Zygote(_state(), trusted=trusted).start_in_background()


@services_app.command("down")
def services_down() -> None:
    """Stop the embedded servers or remove the docker containers (external servers are
    never touched)."""
    from .services import providers
    from .zygote import Zygote

    if Zygote(_state()).stop():
        console.print("service fork server stopped")
    if Zygote(_state(), trusted=True).stop():
        console.print("checks fork server stopped")
    for p in providers(_state()).all():
        stopped = p.stop()
        word = (
            "stopped"
            if stopped
            else ("not running" if p.kind != "external" else "external: left alone")
        )
        console.print(f"{p.name:8} {p.kind:8} {word}")


@services_app.command("status")
def services_status() -> None:
    """Show which servers checks use, whether they run, and where their data and logs are."""
    from .services import providers
    from .zygote import Zygote

    for p in providers(_state()).all():
        st = p.status()
        state = "[green]running[/]" if st.running else "[yellow]stopped[/]"
        version = f" {st.version}" if st.version else ""
        console.print(f"[bold]{st.name}[/] ({st.provider}{version}): {state}")
        for key, value in ([("url", st.url)] if st.url else []) + list(st.details.items()):
            console.print(f"  [dim]{key:5}[/] {value}", soft_wrap=True)
    for trusted, what in ((False, "service starts"), (True, "the checks' own processes")):
        up = Zygote(_state(), trusted=trusted).ready()
        ready = "[green]running[/]" if up else "[dim]not running[/]"
        console.print(f"[bold]fork server[/] (pre-imported Python for {what}): {ready}")


@app.command()
def docs(
    port: Annotated[
        int, typer.Option(help="Port on 127.0.0.1 (the next free one if it is taken).")
    ] = 8000,
) -> None:
    """Serve the course site (the labs' tasks, commands, services) on http://127.0.0.1:PORT."""
    from .paths import course_root
    from .shell import require
    from .verbs.tools import docs as serve
    from .verbs.tools import free_port_from

    require("docs", "`lab docs`", "mkdocs", "material")
    free = free_port_from(port)
    if free != port:
        console.print(f"Port {port} is taken: serving on {free} instead.")
    console.print(f"The course site: http://127.0.0.1:{free} (Ctrl-C to stop)")
    raise typer.Exit(serve(course_root(), free))


@app.command()
def notebook(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8888,
    browser: Annotated[bool, typer.Option(help="Open a browser.")] = True,
) -> None:
    """Open JupyterLab on the course notebooks (explore a lab's service, run its check)."""
    from .paths import course_root
    from .shell import require
    from .verbs.tools import notebook as serve

    require("notebooks", "`lab notebook`", "jupyterlab", "ipywidgets", "ipykernel")
    root = course_root()
    raise typer.Exit(serve(root, _state(), port, browser))


try:  # the authors' commands; the student edition ships without checker/authoring
    from .authoring.cli import register as _register_author_commands
except ImportError:  # pragma: no cover - exercised by the student edition
    pass
else:
    _register_author_commands(app)

try:  # the instructor's commands; the student edition ships without checker/grading
    from .grading.cli import register as _register_instructor_commands
except ImportError:  # pragma: no cover - exercised by the student edition
    pass
else:
    _register_instructor_commands(app)


def _command_words(argv: list[str] | None) -> list[str]:
    words = sys.argv[1:] if argv is None else argv
    return [w for w in words if not w.startswith("-")][:2]


def main(argv: list[str] | None = None) -> int:
    try:
        code = app(args=argv, prog_name="lab", standalone_mode=False)
    except click_exc.NoArgsIsHelpError:
        return 0
    except click_exc.UsageError as exc:
        exc.show(file=sys.stderr)
        return EXIT_USAGE
    except typer.Abort:
        err.print("Aborted.")
        return 130
    except typer.Exit as exc:
        return exc.exit_code
    except ModuleNotFoundError as exc:
        missing = missing_extra(exc, f"`lab {' '.join(_command_words(argv))}`")
        if missing is None:
            raise
        err.print(f"[bold red]Error:[/] {escape(missing.message)}")
        return missing.exit_code
    except LabError as exc:
        err.print(f"[bold red]Error:[/] {escape(exc.message)}")
        if exc.detail:
            err.print(Text(exc.detail, style="dim"))
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("Interrupted: every process this run started was stopped.")
        return 130
    if code == 130:  # typer turns Ctrl-C into exit code 130 by itself
        err.print("Interrupted: every process this run started was stopped.")
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())

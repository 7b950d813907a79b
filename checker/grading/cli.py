"""The instructor's commands: release, grade, worker, gradebook, verify, dashboard.

Registered on the `lab` app by ``checker.cli`` when this package is present (the student
edition ships without it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

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


def _cell(result: dict) -> str:
    mark = {"pass": "[green]✔[/]", "fail": "[yellow]✘[/]"}.get(result["status"], "[red]![/]")
    return f"{result['score']}/{result['max_score']} {mark}"


def register(app: typer.Typer) -> None:
    gradebook_app = typer.Typer(help="The gradebook of every graded run.", no_args_is_help=True)
    app.add_typer(gradebook_app, name="gradebook")

    @app.command(rich_help_panel="Instructor")
    def release(
        out: Annotated[Path, typer.Option("--out", help="Folder to write the edition to.")],
        force: Annotated[bool, typer.Option("--force", help="Replace --out if it exists.")] = False,
    ) -> None:
        """Write the student edition: no solutions, scenarios, planted-bug list, grading-only
        checks or instructor files."""
        from ..paths import course_root
        from .release import release as build

        rep = build(course_root(), out, force=force)
        console.print(f"[green]Student edition written to {rep.out}[/] ({rep.files} files, "
                      f"labs: {', '.join(rep.labs)})")  # fmt: skip
        console.print(f"  left out: solutions/ (with {rep.bugs_files} bugs.toml: their mutations "
                      "show the fixes), tests/, benchmarks/, checker/grading/", markup=False)  # fmt: skip
        for lab, ids in rep.hidden_checks.items():
            console.print(f"  grading-only checks of {lab}: {', '.join(ids)} (run by `lab grade`)")

    @app.command(rich_help_panel="Instructor")
    def grade(
        submissions: Annotated[
            Path,
            typer.Argument(help="A folder of student folders, or a roster CSV (student,repo)."),
        ],  # fmt: skip
        lab: Annotated[
            list[str] | None, typer.Option("--lab", help="Grade only this lab (repeatable).")
        ] = None,  # fmt: skip
        jobs: Annotated[int, typer.Option("--jobs", "-j", help="Runs at a time (local).")] = 2,
        redis_url: Annotated[
            str | None,
            typer.Option("--redis", help="Enqueue for `lab worker`s on this Redis instead."),
        ] = None,  # fmt: skip
        out: Annotated[
            Path | None,
            typer.Option(
                "--out", help="Also write each signed result to OUT/<student>/<lab>.json."
            ),
        ] = None,  # fmt: skip
        db: DbOpt = None,
        memory_mb: Annotated[int, typer.Option(help="Address-space limit of a service.")] = 1024,
        timeout: Annotated[
            float, typer.Option(help="Seconds the checks of one run may take.")
        ] = 120,
        json_: Annotated[
            bool, typer.Option("--json", help="Print the signed results as JSON.")
        ] = False,
    ) -> None:
        """Grade every lab of every submission with this course's own checker."""
        import tempfile

        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        from ..catalog import Catalog
        from ..errors import UsageError
        from ..paths import state_dir
        from ..services import providers, redact
        from . import grade as g
        from .gradebook import Gradebook
        from .jobs import Limits
        from .signing import load_key, sign

        if jobs < 1:
            raise UsageError("--jobs must be at least 1.")
        catalog = Catalog()
        key = load_key()
        book = Gradebook(db)
        batch = g.new_batch()
        limits = Limits(memory_mb=memory_mb, checks_timeout_s=timeout)
        signed_all: list[dict] = []
        with tempfile.TemporaryDirectory(prefix="lab-grade-") as work:
            with err.status("reading the submissions…"):
                tasks = g.discover(submissions, catalog, Path(work), lab)
            if redis_url is None:
                with err.status("starting PostgreSQL and Redis…"):
                    for p in providers(state_dir(catalog.root)).all():
                        p.ensure()  # before the jobs, so no job starts a server
            progress = Progress("[progress.description]{task.description}", BarColumn(),
                                MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                                transient=json_)  # fmt: skip
            with progress:
                bar = progress.add_task(f"grading {len(tasks)} runs", total=len(tasks))

                def on_result(result: dict) -> None:
                    doc = sign({**result, "graded_by": "lab grade", "batch": batch}, key)
                    book.record(batch, doc)
                    signed_all.append(doc)
                    if out is not None:
                        dest = out / doc["student"] / f"{doc['lab']}.json"
                        dest.parent.mkdir(parents=True, exist_ok=True)
                        dest.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
                    progress.advance(bar)
                    progress.update(bar, description=f"{doc['student']} · {doc['lab']}: "
                                    f"{doc['score']}/{doc['max_score']}")  # fmt: skip

                def on_retry(task) -> None:
                    progress.console.print(f"[yellow]worker lost on {task.student} · "
                                           f"{task.lab.id}: enqueued again[/]")  # fmt: skip

                if redis_url:

                    def on_no_worker() -> None:
                        progress.console.print(
                            f"[yellow]No `lab worker` is connected to {redact(redis_url)} yet: "
                            f"the jobs wait in the queue until one starts "
                            f"(`lab worker --redis {redact(redis_url)}`).[/]"
                        )

                    outcome = g.grade_rq(tasks, redis_url=redis_url, limits=limits,
                                         on_result=on_result, on_retry=on_retry,
                                         on_no_worker=on_no_worker)  # fmt: skip
                else:
                    outcome = g.grade_local(tasks, jobs=jobs, limits=limits, on_result=on_result)
        book.close()
        if json_:
            print(json.dumps(signed_all, indent=2, ensure_ascii=False))
            return
        labs = sorted({r["lab"] for r in signed_all}, key=lambda i: catalog.get(i).order)
        table = Table(header_style="bold", title=f"batch {batch}")
        table.add_column("student")
        for lab_id in labs:
            table.add_column(lab_id, justify="right")
        by = {(r["student"], r["lab"]): r for r in signed_all}
        for student in sorted({r["student"] for r in signed_all}):
            table.add_row(student, *(_cell(by[(student, i)]) if (student, i) in by else "–"
                                     for i in labs))  # fmt: skip
        console.print(table)
        counts = {
            s: sum(1 for r in signed_all if r["status"] == s) for s in ("pass", "fail", "error")
        }
        where = f"{redis_url and 'RQ workers' or f'{jobs} local jobs'}"
        console.print(f"{len(signed_all)} runs graded with {where} in {outcome.seconds:.1f} s "
                      f"({outcome.per_minute:.1f}/min): {counts['pass']} pass, {counts['fail']} "
                      f"fail, {counts['error']} error" +
                      (f"; {outcome.retried} re-run after a worker was lost" if outcome.retried else ""))  # fmt: skip
        console.print(f"[dim]Signed results are in the gradebook ({book.url.split('?')[0]})"
                      + (f" and in {out}" if out else "") + ".[/]")  # fmt: skip

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
        from .worker import work

        work(redis_url, burst=burst, name=name, console=console)

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
        from ..errors import UsageError
        from .gradebook import Gradebook
        from .signing import load_key, sign_file

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

    @app.command(rich_help_panel="Instructor")
    def verify(
        file: Annotated[
            Path,
            typer.Argument(help="A signed result (JSON) or an export with its .sig beside it."),
        ],  # fmt: skip
    ) -> None:
        """Check a result's or an export's signature: exit 0 genuine, 1 edited or forged."""
        from .signing import VerifyError, load_key, verify_path

        try:
            what = verify_path(file, load_key(create=False))
        except VerifyError as exc:
            err.print(f"[bold red]REJECTED[/] {exc.message}")
            raise typer.Exit(1) from None
        console.print(f"[green]OK[/] {what}")

    @app.command(rich_help_panel="Instructor")
    def dashboard(
        port: Annotated[int, typer.Option(help="Port.")] = 8050,
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        db: DbOpt = None,
    ) -> None:
        """Serve the class dashboard: students x labs, each check's history, the hardest
        checks. Prints the instructor password and how to make student links."""
        import uvicorn

        from .dashboard import create_app, instructor_password
        from .signing import load_key

        key = load_key()
        console.print(f"Dashboard on http://{host}:{port}/  ·  instructor password: "
                      f"[bold]{instructor_password(key)}[/]")  # fmt: skip
        console.print("[dim]A student's link: `lab dashboard-token STUDENT`.[/]")
        uvicorn.run(create_app(key, db), host=host, port=port, log_level="warning")

    @app.command("dashboard-token", rich_help_panel="Instructor")
    def dashboard_token(
        student: Annotated[str, typer.Argument(help="The student's name.")],
    ) -> None:
        """Print a student's dashboard token (it shows only their own rows)."""
        from .dashboard import student_token
        from .signing import load_key

        console.print(student_token(load_key(), student))

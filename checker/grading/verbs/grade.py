"""`lab grade SUBMISSIONS`: grade every lab of every submission, locally or over RQ."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ._common import DbOpt, cell, console, err


def register(app: typer.Typer) -> None:
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
        memory_mb: Annotated[
            int, typer.Option(help="Address-space limit of each learner process, in MB.")
        ] = 2048,
        timeout: Annotated[
            float, typer.Option(help="Seconds the checks of one run may take.")
        ] = 120,
        json_: Annotated[
            bool, typer.Option("--json", help="Print the signed results as JSON.")
        ] = False,
        unsafe_no_sandbox: Annotated[
            bool,
            typer.Option(
                "--unsafe-no-sandbox",
                help="Grade even where learner code cannot be confined (see the docs' "
                "security model): a submission could then change grades.",
            ),
        ] = False,
    ) -> None:
        """Grade every lab of every submission with this course's own checker."""
        import tempfile

        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        from ...catalog import Catalog
        from ...errors import UsageError
        from ...paths import state_dir
        from ...services import providers, redact
        from .. import grade as g
        from ..gradebook import Gradebook
        from ..jobs import Limits
        from ..signing import load_key, sign

        if jobs < 1:
            raise UsageError("--jobs must be at least 1.")
        from ... import sandbox

        missing = sandbox.probe().missing()
        if missing and not unsafe_no_sandbox:
            raise UsageError(
                "This machine cannot confine learner code: no "
                + "; no ".join(missing)
                + ". Grade where it can (as root, with util-linux), or accept the risk "
                "with --unsafe-no-sandbox."
            )
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
            table.add_row(student, *(cell(by[(student, i)]) if (student, i) in by else "–"
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

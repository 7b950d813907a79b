"""The Python API the notebooks use: the same engine as ``lab check``.

    from checker.notebook import open_lab
    lab = open_lab("crud")
    svc = lab.start()             # your service, on a fresh database, for exploring
    svc.http.get("/books").json()
    lab.check_panel()             # a button that runs the hidden checks; results as a table
    svc.stop()

Like ``lab check``, nothing here imports your service's code: it runs as a process.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import process, runner
from .catalog import Catalog, Lab
from .errors import RunFailed
from .paths import state_dir
from .progress import Progress
from .results import RunResult
from .session import Session
from .workspace import compose, for_lab

STATUS_STYLE = {
    "pass": ("✔", "#1a7f37"),
    "fail": ("✘", "#cf222e"),
    "error": ("!", "#9a6700"),
    "skip": ("–", "#6e7781"),
}


@dataclass
class RunningService:
    """Your service, started for exploring: ``url``, an ``http`` client, ``database_url``."""

    url: str
    database_url: str | None
    redis_url: str | None
    log_path: Path
    _service: process.Service
    _cleanup: list[Any] = field(default_factory=list)
    admin_url: str | None = None

    def statements(self):
        """pg_stat_statements of this service's database (``checker.observe.postgres``):
        ``with svc.statements().capture() as got: svc.http.get(...)``."""
        from .observe.postgres import StatementLog

        if not (self.admin_url and self.database_url):
            raise RuntimeError("this lab has no PostgreSQL database")
        return StatementLog(self.admin_url, self.database_url)

    #: The lab's provider sinks and webhook receivers by name
    #: (``svc.sinks["payments"].count(key)``), as in checks.
    sinks: dict[str, Any] = field(default_factory=dict)
    #: Every instance's URL (``instances = N`` in lab.toml), ``url`` first.
    urls: list[str] = field(default_factory=list)
    #: The run's OTLP collector (``collector = true`` in lab.toml), as in checks: the
    #: spans your service exported (``svc.collector.spans()``); None for other labs.
    collector: Any = None

    @property
    def http(self):
        import httpx

        if not hasattr(self, "_http"):
            # No keep-alive: uvicorn resets a connection after an unhandled exception.
            limits = httpx.Limits(max_keepalive_connections=0)
            self._http = httpx.Client(base_url=self.url, timeout=10, limits=limits)
        return self._http

    def log(self, lines: int = 30) -> str:
        """The last lines your service printed (errors and tracebacks land here)."""
        return process.tail(self.log_path, lines)

    def sql(self, query: str, *params: Any) -> list[tuple]:
        """Run a query on the service's database (to see what it stored)."""
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as conn:
            cur = conn.execute(query, params or None)
            return cur.fetchall() if cur.description else []

    def stop(self) -> None:
        if hasattr(self, "_http"):
            self._http.close()
        self._service.stop()
        for fn in reversed(self._cleanup):
            fn()
        self._cleanup.clear()

    def __enter__(self) -> RunningService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class LabHandle:
    def __init__(self, lab: Lab, path: Path | None = None, solution: bool = False) -> None:
        self.lab = lab
        self.path = path
        self.solution = solution
        self.state = state_dir(lab.root)
        self.last: RunResult | None = None
        self.running: RunningService | None = None

    def _workspace(self):
        return compose(self.lab) if self.solution else for_lab(self.lab, self.path)

    def start(self, timeout: float = 20.0, *, worker: bool = True) -> RunningService:
        """Start your service (as `lab check` would) on a fresh database. Starting again
        stops the previous one first, so re-running a cell picks up your latest code.
        ``worker=False``: no RQ worker runs (run one yourself to watch each job)."""
        if self.running is not None:
            self.running.stop()
            self.running = None
        self.running = self._start(timeout, frozenset() if worker else frozenset({"worker"}))
        return self.running

    def _start(self, timeout: float, without: frozenset[str] = frozenset()) -> RunningService:
        """The same world as `lab check` (``checker.session``): a fresh database, Redis,
        the lab's sidecars (sinks, the Redis fault proxy, the worker) and the service."""
        import json

        from .observe.sinks import Sink

        ws = self._workspace()
        # The database is named as a check's is (no "nb" in it): nothing the service sees
        # tells a notebook from a check.
        session = Session(self.lab, ws.path, state=self.state,
                          run_dir=self.state / "notebook" / self.lab.id,
                          without=without)  # fmt: skip
        cleanup: list[Any] = [ws.cleanup, session.close]
        try:
            session.provision()
            try:
                session.start_services(timeout)
            except RunFailed as exc:
                raise RuntimeError(f"{exc.message}\n\n{exc.log_tail}") from None
            # The provider sinks and the webhook receivers (no name is both), by name.
            named = {**json.loads(session.checks_env.get("LAB_SINKS", "{}")),
                     **json.loads(session.checks_env.get("LAB_RECEIVERS", "{}"))}  # fmt: skip
            opened = {name: Sink(name, url) for name, url in named.items()}
            cleanup += [sink.close for sink in opened.values()]
            collector = None
            if session.checks_env.get("LAB_COLLECTOR"):
                from .sidecars.collector import Collector

                collector = Collector(session.checks_env["LAB_COLLECTOR"])
                cleanup.append(collector.close)
        except BaseException:
            for fn in reversed(cleanup):
                fn()
            raise
        svc = session.service
        return RunningService(svc.url, session.database_url, session.redis_url, svc.log_path,
                              svc, cleanup, session.admin_url, opened,
                              [s.url for s in session.services], collector)  # fmt: skip

    def check(self, show: bool = True, listener: runner.Listener | None = None) -> RunResult:
        """Run the hidden checks, exactly as `lab check` does; returns the result."""
        with self._workspace() as ws:
            result = runner.run(self.lab, ws, state=self.state, listener=listener)
        Progress(self.state).record(result)
        self.last = result
        if show:
            _display_html(result_html(result))
        return result

    def check_panel(self):
        """A button that runs the checks and shows the result as a table."""
        import ipywidgets as widgets

        button = widgets.Button(
            description=f"Run lab check {self.lab.id}", icon="play", button_style="primary",
            layout=widgets.Layout(width="auto"),
        )  # fmt: skip
        out = widgets.HTML(value="<i>Press the button to run the checks.</i>")

        def progress(kind: str, payload: Any) -> None:
            # Long checks (load tests) report what they are doing while they run.
            if kind in ("phase", "progress"):
                out.value = f"<i>Checking… {html.escape(str(payload))}</i>"

        def on_click(_=None):
            button.disabled = True
            out.value = "<i>Checking… (starting your service, running the hidden checks)</i>"
            try:
                result = self.check(show=False, listener=progress)
                out.value = result_html(result)
            finally:
                button.disabled = False

        button.on_click(on_click)
        panel = widgets.VBox([button, out])
        panel.run = on_click  # lets a notebook (or a test) press the button in code
        return panel


_HANDLES: dict[tuple, LabHandle] = {}


def open_lab(lab_id: str, *, path: str | Path | None = None, solution: bool = False) -> LabHandle:
    """The lab ``lab_id`` of this course (``path``: check another copy of it). Opening
    the same lab again (re-running a cell) gives the same handle."""
    key = (lab_id, str(path) if path else None, solution)
    if key not in _HANDLES:
        lab = Catalog().get(lab_id)
        _HANDLES[key] = LabHandle(lab, Path(path) if path else None, solution)
    return _HANDLES[key]


def result_rows(result: RunResult) -> list[dict[str, Any]]:
    return [
        {
            "check": c.title,
            "status": c.status,
            "points": f"{c.earned}/{c.points}",
            "message": c.message,
            "hint": c.hint,
        }
        for c in result.checks
    ]


def result_html(result: RunResult) -> str:
    e = html.escape
    rows = []
    for c in result.checks:
        icon, colour = STATUS_STYLE.get(c.status, ("?", "#000"))
        detail = e(c.message)
        if c.hint:
            detail += f"<br><i>Hint: {e(c.hint)}</i>"
        rows.append(
            f"<tr><td style='color:{colour};font-weight:bold'>{icon} {e(c.status)}</td>"
            f"<td>{e(c.title)}{' <b>(bonus)</b>' if c.bonus else ''}</td>"
            f"<td>{c.earned}/{c.points}</td><td style='text-align:left'>{detail}</td></tr>"
        )
    error = ""
    if result.error:
        error = (
            f"<p style='color:#9a6700'><b>Could not judge:</b> {e(result.error.message)}</p>"
            f"<pre>{e(result.error.log_tail)}</pre>"
        )
    return (
        f"<p><b>lab check {e(result.lab)}</b>: {e(result.status)}, score "
        f"<b>{result.score}/{result.max_score}</b> in {result.duration_s:.1f} s</p>{error}"
        "<table><thead><tr><th>status</th><th>check</th><th>points</th><th>details</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _display_html(markup: str) -> None:
    try:
        from IPython.display import HTML, display
    except ImportError:  # pragma: no cover - outside IPython
        print(markup)
        return
    display(HTML(markup))

"""The terminal report: checks as they finish, then the score, with expected versus
actual and a hint for each failure."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.text import Text

from .catalog import Lab
from .results import CheckResult, RunResult

ICONS = {
    "pass": ("✔", "green"),
    "fail": ("✘", "red"),
    "error": ("!", "yellow"),
    "skip": ("–", "dim"),
}


def check_line(c: CheckResult) -> Text:
    icon, style = ICONS.get(c.status, ("?", "white"))
    line = Text()
    line.append(f" {icon} ", style=f"bold {style}")
    line.append(c.title)
    if c.bonus:
        line.append("  bonus", style="magenta")
    line.append(f"  {c.earned}/{c.points}", style="dim")
    if c.duration_s >= 0.01:
        line.append(f"  {c.duration_s:.2f} s", style="dim")
    return line


class LiveReport:
    """A listener for ``runner.run`` that prints each check as it finishes."""

    def __init__(self, console: Console, lab: Lab, target: str) -> None:
        self.console, self.lab = console, lab
        self.status = None
        self.printed: set[str] = set()
        self.ids = {c.id for c in lab.checks}
        console.print(
            f"[bold]lab check {lab.id}[/]  [dim]{escape(target)}[/]  "
            f"[dim]({len(lab.checks)} checks)[/]"
        )

    def __call__(self, kind: str, payload: Any) -> None:
        if kind in ("phase", "progress"):
            if self.status is None:
                self.status = self.console.status(f"[dim]{escape(str(payload))}…[/]")
                self.status.start()
            else:
                self.status.update(f"[dim]{escape(str(payload))}…[/]")
        elif kind == "check":
            self._stop_status()
            self.printed.add(payload.id)
            hint = (
                self.lab.check(payload.id).hint_for(payload.kind) if payload.id in self.ids else ""
            )
            print_check(self.console, payload, hint)
        elif kind == "done":
            self._stop_status()

    def _stop_status(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None


def print_check(console: Console, c: CheckResult, hint: str = "") -> None:
    console.print(check_line(c))
    if c.status in ("pass", "skip") and c.message:
        # What a passing check measured, or why a check was skipped (and how to enable it).
        style = "dim" if c.status == "pass" else "yellow"
        console.print(Padding(Text(c.message, style=style), (0, 0, 0, 4)))
    if c.status in ("fail", "error"):
        console.print(Padding(Text(c.message, style="red"), (0, 0, 0, 4)))
        hint = hint or c.hint
        if hint and c.status == "fail":
            console.print(
                Padding(Text.assemble(("Hint: ", "bold cyan"), (hint, "cyan")), (0, 0, 0, 4))
            )


def print_summary(console: Console, result: RunResult, *, printed: set[str] = frozenset()) -> None:
    for c in result.checks:
        if c.id not in printed:
            print_check(console, c)
    if result.error:
        console.print()
        console.print(f"[bold yellow]Could not judge this run:[/] {escape(result.error.message)}")
        if result.error.log_tail:
            console.print("[dim]Last lines of your service's log:[/]")
            console.print(Padding(Text(result.error.log_tail, style="dim"), (0, 0, 0, 2)))
    console.print()
    passed = sum(1 for c in result.checks if c.status == "pass")
    colour = {"pass": "green", "fail": "red"}.get(result.status, "yellow")
    verdict = {"pass": "All checks pass", "fail": "Not there yet", "error": "Could not judge"}[
        result.status
    ]
    console.print(
        f"[bold {colour}]{verdict}[/]  score [bold]{result.score}/{result.max_score}[/]  "
        f"· {passed}/{len(result.checks)} checks pass · {result.duration_s:.1f} s"
    )
    if result.status == "fail":
        console.print(
            "[dim]Fix one thing at a time; `lab watch` re-checks on every save, "
            "`lab hint` gives the next hint.[/]"
        )

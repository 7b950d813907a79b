"""The terminal report: checks as they finish, then the score, with expected versus
actual and a hint for each failure.

On a terminal long lines wrap under their indent; into a pipe or a file nothing is
padded or wrapped (``checker.shell.make_console``).
"""

from __future__ import annotations

import os
import re
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.text import Text

from .catalog import Lab
from .results import CheckResult, RunResult
from .shell import lab_command

ICONS = {
    "pass": ("✔", "green"),
    "fail": ("✘", "red"),
    "error": ("!", "yellow"),
    "skip": ("–", "dim"),
}
NOT_RUN = "Not run:"  # how the runner marks a check it never reached


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


def indented(console: Console, text: Text, indent: int = 4) -> None:
    """``text`` under an indent: wrapped inside it on a terminal, whole lines elsewhere."""
    if console.soft_wrap:
        pad = " " * indent
        out = Text()
        for i, line in enumerate(text.split("\n", allow_blank=True)):
            out.append(("\n" if i else "") + pad)
            out.append_text(line)
        console.print(out)
    else:
        console.print(Padding(text, (0, 0, 0, indent), expand=False))


def first_hint(lab: Lab, c: CheckResult) -> str:
    """The hint `lab check` shows for a failure: the one for its kind when the manifest
    maps kinds to hints, else the check's first."""
    try:
        check = lab.check(c.id)
    except KeyError:
        return c.hint
    hint_for = getattr(check, "hint_for", None)
    return hint_for(c.kind) if hint_for else check.hint


class LiveReport:
    """A listener for ``runner.run`` that prints each check as it finishes."""

    def __init__(self, console: Console, lab: Lab, target: str) -> None:
        self.console, self.lab = console, lab
        self.status = None
        self.printed: set[str] = set()
        self.hinted: dict[str, str] = {}  # check id -> the failure kind whose hint was shown
        console.print(
            f"[bold]lab check {lab.id}[/]  [dim]{escape(target)}[/]  "
            f"[dim]({len(lab.checks)} checks)[/]"
        )

    def __call__(self, kind: str, payload: Any) -> None:
        if kind in ("phase", "progress"):
            text = f"[dim]{escape(str(payload))}…[/]"
            if not self.console.is_terminal:
                return  # a spinner into a pipe is noise; the result follows
            if self.status is None:
                self.status = self.console.status(text)
                self.status.start()
            else:
                self.status.update(text)
        elif kind == "check":
            self._stop_status()
            self.printed.add(payload.id)
            hint = first_hint(self.lab, payload) if payload.status == "fail" else ""
            if hint:
                self.hinted[payload.id] = payload.kind
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
        indented(console, Text(c.message, style="dim" if c.status == "pass" else "yellow"))
    if c.status in ("fail", "error"):
        indented(console, Text(c.message, style="red"))
        hint = hint or c.hint
        if hint and c.status == "fail":
            indented(console, Text.assemble(("Hint: ", "bold cyan"), (hint, "cyan")))


# ------------------------------------------------------------------ a crash, read well

_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>.+))?$')
_EXC = re.compile(r"^(?P<name>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning))(?::\s*(?P<msg>.*))?$")  # fmt: skip
_LIBRARY = ("site-packages", "dist-packages", "<frozen", "/lib/python3", "\\lib\\python3")


def _shown_path(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return rel if not rel.startswith("..") else path


class Crash:
    """What a service's start-up traceback says: where (file:line), what, and the frames
    of the learner's own code (library frames left out)."""

    def __init__(self, log: str) -> None:
        self.where = self.what = ""
        self.more: list[str] = []
        self.source: list[str] = []  # the offending line (and SyntaxError's caret)
        self.frames: list[tuple[str, str]] = []  # (file:line, code) of the learner's frames
        lines = log.splitlines()
        exc_at = next((i for i in range(len(lines) - 1, -1, -1) if _EXC.match(lines[i])), None)
        if exc_at is None:
            return
        self.what = lines[exc_at].strip()
        # A message of several lines (pydantic's ValidationError): its next few lines.
        self.more = [ln.rstrip() for ln in lines[exc_at + 1 : exc_at + 5] if ln.strip()]
        last_file = None
        for i, raw in enumerate(lines[:exc_at]):
            m = _FRAME.match(raw)
            if not m:
                continue
            code = lines[i + 1].strip() if i + 1 < exc_at and not _FRAME.match(lines[i + 1]) else ""
            if code.startswith("^"):
                code = ""
            last_file = (m, i)
            if not any(mark in m["file"] for mark in _LIBRARY):
                self.frames.append((f"{_shown_path(m['file'])}:{m['line']}", code))
        if last_file is None:
            return
        m, i = last_file
        if m["func"] is None:  # a SyntaxError: the lines after it show the source and a caret
            self.where = f"{_shown_path(m['file'])}:{m['line']}"
            self.source = [ln.rstrip() for ln in lines[i + 1 : exc_at] if ln.strip()][:2]
            if self.frames and self.frames[-1][0] == self.where:
                self.frames.pop()
        elif self.frames:  # the innermost frame of the learner's own code
            self.where, code = self.frames.pop()
            self.source = [f"    {code}"] if code else []


#: The run errors whose log ends in the learner's traceback, and how the report says it.
CRASH_KINDS = {
    "service_start_failed": "did not start",
    "service_unhealthy": "did not start",
    "service_crashed": "crashed",
}


def print_crash(console: Console, result: RunResult) -> None:
    """A run that could not be judged: the error's place and message first, then the
    learner's frames, then the log's last lines only if nothing better was found."""
    error = result.error
    assert error is not None
    how = CRASH_KINDS.get(error.kind)
    crash = Crash(error.log_tail) if error.log_tail and how else None
    console.print()
    if crash and crash.what:
        where = f"{crash.where}: " if crash.where else ""
        console.print(Text.assemble((f"Your service {how}: ", "bold yellow"),
                                    (where, "bold"), (crash.what, "bold red")))  # fmt: skip
        for line in crash.more:
            indented(console, Text(line, style="red"), 2)
        for line in crash.source:
            indented(console, Text(line), 2)
        if crash.frames:
            console.print(Text("  Traceback, your files only (innermost last):", style="dim"))
            for where_, code in crash.frames[-6:]:
                indented(console, Text.assemble((where_, "dim"), ("  " + code if code else "")), 4)
        indented(
            console, Text(error.message.replace(" The log below shows why.", ""), style="dim"), 2
        )
    else:
        console.print(Text.assemble(("Could not judge this run: ", "bold yellow"), error.message))
        if error.log_tail:
            console.print(Text("Last lines of your service's log:", style="dim"))
            tail = "\n".join(error.log_tail.splitlines()[-15:])
            indented(console, Text(tail, style="dim"), 2)


def print_summary(
    console: Console, result: RunResult, *, printed: set[str] = frozenset(), lab: Lab | None = None
) -> None:
    not_run = [c for c in result.checks
               if c.id not in printed and c.status == "error" and c.message.startswith(NOT_RUN)]  # fmt: skip
    for c in result.checks:
        if c.id not in printed and c not in not_run:
            print_check(console, c, first_hint(lab, c) if lab and c.status == "fail" else "")
    if result.error:
        print_crash(console, result)
    if not_run:
        points = sum(c.points for c in not_run)
        why = not_run[0].message.removeprefix(NOT_RUN).strip()
        noun = "check" if len(not_run) == 1 else "checks"
        console.print(Text.assemble((f" – {len(not_run)} {noun} not run", "bold yellow"),
                                    (f" ({points} points): {why}", "yellow")))  # fmt: skip
    console.print()
    passed = sum(1 for c in result.checks if c.status == "pass")
    colour = {"pass": "green", "fail": "red"}.get(result.status, "yellow")
    open_bonus = [c for c in result.checks if c.bonus and c.status != "pass"]
    verdict = {"pass": "All checks pass", "fail": "Not there yet", "error": "Could not judge"}[
        result.status
    ]
    if result.status == "pass" and open_bonus:
        verdict = "All required checks pass"
    console.print(
        f"[bold {colour}]{verdict}[/]  score [bold]{result.score}/{result.max_score}[/]  "
        f"· {passed}/{len(result.checks)} checks pass · {result.duration_s:.1f} s"
    )
    if result.status == "pass" and open_bonus:
        titles = "; ".join(c.title for c in open_bonus)
        points = sum(c.points for c in open_bonus)
        console.print(
            f"[magenta]Bonus still open ({points} points):[/] {escape(titles)}. "
            f"[dim]`{lab_command(f'hint {result.lab} {open_bonus[0].id}')}` for a hint; "
            f"`{lab_command(f'solution {result.lab}')}` shows the reference now.[/]"
        )
    elif result.status == "fail":
        console.print(
            f"[dim]Fix one thing at a time: `{lab_command(f'watch {result.lab}')}` re-checks on "
            f"every save, `{lab_command(f'hint {result.lab}')}` gives the next hint.[/]"
        )

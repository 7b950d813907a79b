"""`lab hint`: the next hint for a failing check, going on from what the learner has
already seen (`lab check` shows each failure's first hint; `lab hint` the ones after).

A check's hints form a ladder: the hints for the kind of failure that happened (when
lab.toml maps the check's failure kinds to hints), then the check's own hints, without
repeats. What was seen is counted per check and failure kind in ``.lab/hints.json``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..catalog import Lab
from ..errors import UsageError
from ..progress import Progress
from ..results import CheckResult, RunResult
from .check import hint_key


def ladder(lab: Lab, result: CheckResult) -> list[str]:
    """Every hint for this failure, first to last."""
    try:
        check = lab.check(result.id)
    except KeyError:
        return [result.hint] if result.hint else []
    hints_for = getattr(check, "hints_for", None)  # hints by failure kind, where supported
    kind_hints = list(hints_for(result.kind)) if hints_for and result.kind else []
    seen: list[str] = []
    for hint in (*kind_hints, *check.hints, result.hint):
        if hint and hint not in seen:
            seen.append(hint)
    return seen


@dataclass
class Shown:
    check: CheckResult
    hint: str
    number: int  # 1-based
    total: int
    exhausted: bool  # every hint of the ladder had been seen before this one
    others: list[CheckResult]  # the other failing checks


def pick(run: RunResult, check_id: str | None) -> tuple[CheckResult, list[CheckResult]]:
    """The check to hint at (the named one, else the first failing required check, else
    the first failing bonus check) and the other failing ones."""
    failing = [c for c in run.checks if c.status in ("fail", "error")]
    if check_id is None:
        if not failing:
            raise LookupError
        failing.sort(key=lambda c: c.bonus)  # required checks first (stable otherwise)
        return failing[0], failing[1:]
    wanted = check_id.strip().lower()
    by_id = {c.id: c for c in run.checks}
    match = by_id.get(wanted) or next(
        (c for c in run.checks if c.id.startswith(wanted) and wanted), None
    )
    if match is None:
        names = ", ".join(c.id for c in failing) or "none: every check passed"
        raise UsageError(
            f"Lab {run.lab!r} has no check {check_id!r}. Failing in your last run: {names}."
        )
    return match, [c for c in failing if c.id != match.id]


def next_hint(lab: Lab, run: RunResult, progress: Progress, check_id: str | None) -> Shown:
    check, others = pick(run, check_id)
    hints = ladder(lab, check) or ["This check has no hint yet: its message is all there is."]
    key = hint_key(check.id, check.kind)
    level = progress.next_hint_level(lab.id, key)
    exhausted = level >= len(hints)
    index = min(level, len(hints) - 1)
    progress.hint_shown(lab.id, key)
    return Shown(check, hints[index], index + 1, len(hints), exhausted, others)

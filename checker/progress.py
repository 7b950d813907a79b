"""The learner's local history of runs: one JSON line per run in ``.lab/progress.jsonl``,
and the hints already shown (``.lab/hints.json``).

A local result is advisory: the grade is what the trusted checker measures on the
submission (see ``lab grade``).
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from .results import RunResult
from .workspace import REFERENCE_SUFFIX


def is_reference(run: RunResult) -> bool:
    """A run of the reference solution (`lab check --solution`), not of the learner's code."""
    return run.target.endswith(REFERENCE_SUFFIX)


class Progress:
    def __init__(self, state: Path) -> None:
        self.path = state / "progress.jsonl"
        self.hints_path = state / "hints.json"

    def record(self, result: RunResult) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(result.to_json(indent=None) + "\n")

    def history(self, lab: str | None = None, *, reference: bool = False) -> list[RunResult]:
        """Runs in order; the reference solution's runs (`--solution`) only if asked."""
        runs: list[RunResult] = []
        with contextlib.suppress(FileNotFoundError), open(self.path, encoding="utf-8") as f:
            for line in f:
                try:
                    data = json.loads(line)
                    if lab is not None and data.get("lab") != lab:
                        continue
                    run = RunResult.from_dict(data)
                    if reference or not is_reference(run):
                        runs.append(run)
                except (ValueError, KeyError, TypeError):
                    continue  # a torn line from an interrupted write: skip it
        return runs

    def last(self, lab: str) -> RunResult | None:
        runs = self.history(lab)
        return runs[-1] if runs else None

    def best(self, lab: str) -> RunResult | None:
        runs = self.history(lab)
        return max(runs, key=lambda r: (r.score, r.started_at)) if runs else None

    def ever_passed(self, lab: str) -> bool:
        return any(r.status == "pass" for r in self.history(lab))

    # -- hints ------------------------------------------------------------------

    def _hints(self) -> dict[str, int]:
        try:
            return json.loads(self.hints_path.read_text())
        except (OSError, ValueError):
            return {}

    def next_hint_level(self, lab: str, check: str) -> int:
        return self._hints().get(f"{lab}/{check}", 0)

    def hint_shown(self, lab: str, check: str) -> None:
        """One more hint of ``check`` was shown (by `lab hint`)."""
        hints = self._hints()
        hints[f"{lab}/{check}"] = hints.get(f"{lab}/{check}", 0) + 1
        self.hints_path.write_text(json.dumps(hints, indent=1))

    def hint_seen(self, lab: str, check: str, level: int = 1) -> None:
        """The first ``level`` hints of ``check`` were shown (the first, by `lab check`):
        the next `lab hint` goes on from there instead of repeating it."""
        hints = self._hints()
        if hints.get(f"{lab}/{check}", 0) < level:
            hints[f"{lab}/{check}"] = level
            self.hints_path.write_text(json.dumps(hints, indent=1))

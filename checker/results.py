"""The result of one run, and its renderings: JSON (the contract), Gradescope, JUnit.

The JSON shape is pinned by DESIGN.md ("The result contract") and by golden files in
tests/; change it only with a new ``schema`` number.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any
from xml.etree import ElementTree as ET

SCHEMA = 1

EXIT_PASS, EXIT_FAIL, EXIT_ERROR, EXIT_USAGE = 0, 1, 2, 3


@dataclass
class CheckResult:
    id: str
    title: str
    status: str  # pass | fail | error | skip
    points: int
    message: str = ""
    hint: str = ""
    duration_s: float = 0.0
    kind: str = ""  # why it failed, when the check named it (checker.verdict); "" otherwise
    bonus: bool = False

    @property
    def earned(self) -> int:
        return self.points if self.status == "pass" else 0


@dataclass
class RunError:
    kind: str  # a checker.errors.RunErrorKind: service_start_failed, timeout, ...
    message: str
    log_tail: str = ""

    def __post_init__(self) -> None:
        import contextlib

        from .errors import RunErrorKind

        with contextlib.suppress(ValueError):  # a kind from another version stays text
            self.kind = RunErrorKind(self.kind)


@dataclass
class RunResult:
    lab: str
    target: str
    started_at: str
    status: str = "error"  # pass | fail | error
    duration_s: float = 0.0
    checks: list[CheckResult] = field(default_factory=list)
    error: RunError | None = None
    measurements: dict[str, Any] = field(default_factory=dict)
    schema: int = SCHEMA
    seed: int | None = None  # the run's probe values (LAB_SEED): replay with --seed

    @property
    def score(self) -> int:
        return sum(c.earned for c in self.checks)

    @property
    def max_score(self) -> int:
        return sum(c.points for c in self.checks)

    def settle(self) -> None:
        """Decide the run's status from its required checks (an error wins). A bonus check
        is bonus: its points count in the score, but a pass needs only the required ones."""
        required = [c for c in self.checks if not c.bonus]
        if self.error is not None or any(c.status == "error" for c in required):
            self.status = "error"
        elif any(c.status == "fail" for c in required):
            self.status = "fail"
        else:
            self.status = "pass"

    @property
    def exit_code(self) -> int:
        return {"pass": EXIT_PASS, "fail": EXIT_FAIL}.get(self.status, EXIT_ERROR)

    def failing(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status in ("fail", "error")]

    def open_bonus(self) -> list[CheckResult]:
        """The bonus checks this run did not pass (a pass can leave some open)."""
        return [c for c in self.checks if c.bonus and c.status != "pass"]

    # ------------------------------------------------------------ renderings

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "lab": self.lab,
            "target": self.target,
            "status": self.status,
            "score": self.score,
            "max_score": self.max_score,
            "started_at": self.started_at,
            "duration_s": round(self.duration_s, 3),
            "checks": [
                {
                    "id": c.id,
                    "title": c.title,
                    "status": c.status,
                    "points": c.points,
                    "message": c.message,
                    "hint": c.hint,
                    "duration_s": round(c.duration_s, 3),
                    **({"kind": c.kind} if c.kind else {}),
                    **({"bonus": True} if c.bonus else {}),
                }
                for c in self.checks
            ],
            "error": asdict(self.error) if self.error else None,
            "measurements": self.measurements,
            **({"seed": self.seed} if self.seed is not None else {}),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        run = cls(
            lab=data["lab"],
            target=data.get("target", ""),
            started_at=data.get("started_at", ""),
            status=data.get("status", "error"),
            duration_s=data.get("duration_s", 0.0),
            measurements=data.get("measurements") or {},
            schema=data.get("schema", SCHEMA),
            seed=data.get("seed"),
        )
        for c in data.get("checks", []):
            run.checks.append(
                CheckResult(
                    id=c["id"],
                    title=c.get("title", c["id"]),
                    status=c["status"],
                    points=c.get("points", 0),
                    message=c.get("message", ""),
                    hint=c.get("hint", ""),
                    duration_s=c.get("duration_s", 0.0),
                    kind=c.get("kind", ""),
                    bonus=c.get("bonus", False),
                )
            )
        if data.get("error"):
            run.error = RunError(**data["error"])
        return run

    def to_gradescope(self) -> str:
        """Gradescope's results.json (autograder specification)."""
        tests = []
        for c in self.checks:
            output = c.message if c.status != "pass" else ""
            if c.hint and c.status != "pass":
                output += f"\n\nHint: {c.hint}"
            tests.append(
                {
                    "name": c.title,
                    "name_format": "text",
                    "number": c.id,
                    "score": c.earned,
                    "max_score": c.points,
                    "status": "passed" if c.status == "pass" else "failed",
                    "output": output.strip(),
                    "output_format": "text",
                    "visibility": "visible",
                }
            )
        doc: dict[str, Any] = {
            "score": self.score,
            "execution_time": round(self.duration_s, 3),
            "output_format": "text",
            "stdout_visibility": "hidden",
            "tests": tests,
        }
        if self.error:
            doc["output"] = f"{self.error.message}\n\n{self.error.log_tail}".strip()
        return json.dumps(doc, indent=2, ensure_ascii=False)

    def to_junit(self) -> str:
        """JUnit XML: one testsuite, one testcase per check."""
        counts = {
            s: sum(1 for c in self.checks if c.status == s) for s in ("fail", "error", "skip")
        }
        suite = ET.Element(
            "testsuite",
            name=f"lab.{self.lab}",
            tests=str(len(self.checks)),
            failures=str(counts["fail"]),
            errors=str(counts["error"] + (1 if self.error and not self.checks else 0)),
            skipped=str(counts["skip"]),
            time=f"{self.duration_s:.3f}",
            timestamp=self.started_at,
        )
        for c in self.checks:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"lab.{self.lab}",
                name=c.id,
                time=f"{c.duration_s:.3f}",
            )
            text = c.message + (f"\nHint: {c.hint}" if c.hint else "")
            if c.status == "fail":
                ET.SubElement(case, "failure", message=c.message).text = text
            elif c.status == "error":
                ET.SubElement(case, "error", message=c.message).text = text
            elif c.status == "skip":
                ET.SubElement(case, "skipped", message=c.message)
        if self.error:
            ET.SubElement(
                suite, "system-err"
            ).text = f"{self.error.kind}: {self.error.message}\n{self.error.log_tail}"
        root = ET.Element("testsuites", name="backend-lab")
        root.append(suite)
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")

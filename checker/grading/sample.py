"""A generated class, for trying `lab grade` and for its tests and benchmark.

Each student gets one lab as one of: the starter, the reference solution, a known-wrong
scenario or a valid alternative from tests/scenarios/<lab>/, each with the verdicts it
must get (the starter's planted bugs, all pass, the scenario's golden). Needs the full
repository (solutions/ and tests/scenarios/), never the student edition.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

from ..catalog import Lab, Mutation
from ..workspace import IGNORE, compose


def variants(lab: Lab) -> list[tuple[str, dict[str, str], dict]]:
    """(name, expected verdicts, compose() arguments) of every known copy of ``lab``."""
    ids = [c.id for c in lab.checks]
    starter_fail = lab.expected_starter_failures()
    out: list[tuple[str, dict[str, str], dict]] = [
        ("starter", {c: "fail" if c in starter_fail else "pass" for c in ids}, {"solution": False}),
        ("solution", dict.fromkeys(ids, "pass"), {}),
    ]
    for case in sorted((lab.root / "tests" / "scenarios" / lab.id).glob("*/scenario.toml")):
        spec = tomllib.loads(case.read_text(encoding="utf-8"))
        files = case.parent / "files"
        args = {
            "solution": spec.get("base", "solution") == "solution",
            "overlays": [files] if files.is_dir() else [],
            "mutations": [
                Mutation(e["file"], e["find"], e["replace"]) for e in spec.get("edits", [])
            ],
        }
        out.append((f"{spec['kind']}-{case.parent.name}", dict(spec["expected"]), args))
    return out


def make_class(lab: Lab, dest: Path, size: int) -> dict[str, tuple[str, dict[str, str]]]:
    """``size`` student folders under ``dest`` (student-NN/labs/NN-id), cycling through the
    variants; returns student -> (variant, expected verdicts)."""
    kinds = variants(lab)
    expected: dict[str, tuple[str, dict[str, str]]] = {}
    for i in range(size):
        name, verdicts, args = kinds[i % len(kinds)]
        student = f"student-{i + 1:02d}"
        target = dest / student / "labs" / lab.dirname
        target.parent.mkdir(parents=True, exist_ok=True)
        with compose(lab, **args) as ws:
            shutil.copytree(ws.path, target, ignore=IGNORE)
        expected[student] = (name, verdicts)
    return expected

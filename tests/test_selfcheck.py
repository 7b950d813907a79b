"""Every lab proves itself (DESIGN.md, principle 3), for every lab the catalog finds:

* the reference solution passes every check;
* the starter fails exactly the checks its planted bugs name (plus bonus checks);
* each planted bug alone, re-planted into the solution by its mutation, fails exactly
  the checks named for it;
* every scenario in tests/scenarios/<lab>/ (known-wrong fixes, cheats that try to pass
  without doing the work, and valid alternative fixes) gets its golden verdicts. A
  scenario is a ``scenario.toml`` (description, base, kind: wrong | cheat | valid,
  ``[expected]`` verdicts, and optionally ``[kinds]``: the failure kind a failing check
  must name) with whole files under ``files/`` and/or ``[[edits]]`` (file, find,
  replace: ``find`` must occur exactly once), applied on top of its base.

``LAB_RERUNS=N`` runs each case N times and requires identical verdicts (the flakiness
mode; CI uses 1).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from checker import runner
from checker.catalog import Catalog, Lab, Mutation
from checker.paths import state_dir
from checker.workspace import Workspace, compose

from .conftest import ROOT

RERUNS = int(os.environ.get("LAB_RERUNS", "1"))
LABS = Catalog(ROOT).labs
SCENARIOS = ROOT / "tests" / "scenarios"

pytestmark = pytest.mark.slow


def verdicts(lab: Lab, ws: Workspace, kinds: dict[str, str] | None = None) -> dict[str, str]:
    """The check statuses of RERUNS runs, which must all agree. With ``kinds``, also the
    failure kind of those checks (and the hint the manifest maps to it), every run."""
    seen: list[dict[str, str]] = []
    for _ in range(RERUNS):
        result = runner.run(lab, ws, state=state_dir(ROOT))
        assert result.error is None, f"the run could not be judged: {result.error}"
        seen.append({c.id: c.status for c in result.checks})
        if seen[0] != seen[-1]:
            why = {c.id: c.message for c in result.checks if c.status != seen[0].get(c.id)}
            pytest.fail(f"verdicts differ between reruns:\n{seen[0]}\n{seen[-1]}\n{why}")
        for c in result.checks:
            if kinds and c.id in kinds:
                assert c.kind == kinds[c.id], f"{c.id}: kind {c.kind!r} ({c.message})"
                assert c.hint == lab.check(c.id).hint_for(c.kind), f"{c.id}: hint of its kind"
    return seen[0]


def failing(v: dict[str, str]) -> set[str]:
    return {cid for cid, status in v.items() if status != "pass"}


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.id)
def test_solution_passes_every_check(lab):
    with compose(lab) as ws:
        assert failing(verdicts(lab, ws)) == set()


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.id)
def test_starter_fails_exactly_its_planted_bugs(lab):
    v = verdicts(lab, Workspace(lab.path, "starter"))
    expected = lab.expected_starter_failures()
    assert failing(v) == expected, (
        f"unexpected failures: {sorted(failing(v) - expected)}; "
        f"missed: {sorted(expected - failing(v))}"
    )


@pytest.mark.parametrize(
    ("lab", "bug"),
    [(lab, bug) for lab in LABS for bug in lab.bugs],
    ids=lambda x: getattr(x, "id", None),
)
def test_each_planted_bug_alone_is_caught(lab, bug):
    with compose(lab, mutations=bug.mutations) as ws:
        v = verdicts(lab, ws)
    assert failing(v) == set(bug.checks), (
        f"bug {bug.id}: expected exactly {sorted(bug.checks)} to fail, got {sorted(failing(v))}"
    )


def _scenarios():
    for lab in LABS:
        for case in sorted((SCENARIOS / lab.id).glob("*/scenario.toml")):
            yield pytest.param(lab, case.parent, id=f"{lab.id}-{case.parent.name}")


@pytest.mark.parametrize(("lab", "case"), list(_scenarios()))
def test_scenario_matches_its_golden_verdicts(lab: Lab, case: Path):
    spec = tomllib.loads((case / "scenario.toml").read_text())
    assert spec["kind"] in ("wrong", "cheat", "valid")
    expected = spec["expected"]
    assert set(expected) == {c.id for c in lab.checks}, "the golden names every check"
    if spec["kind"] == "valid":
        assert set(expected.values()) == {"pass"}, "a valid alternative passes everything"
    else:
        assert "fail" in expected.values(), "a known-wrong fix or a cheat fails something"
    overlays = [case / "files"] if (case / "files").is_dir() else []
    edits = [Mutation(e["file"], e["find"], e["replace"]) for e in spec.get("edits", [])]
    assert overlays or edits, "a scenario changes something"
    base = spec.get("base", "solution")
    with compose(lab, solution=base == "solution", overlays=overlays, mutations=edits) as ws:
        got = verdicts(lab, ws, spec.get("kinds"))
    assert got == expected, f"{spec['description']}: got {got}"


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.id)
def test_every_lab_has_scenarios_of_every_kind(lab):
    kinds = [
        tomllib.loads(p.read_text())["kind"] for p in (SCENARIOS / lab.id).glob("*/scenario.toml")
    ]
    assert kinds.count("wrong") >= 4, "at least 4 known-wrong fixes"
    assert kinds.count("valid") >= 2, "at least 2 valid alternatives"
    assert kinds.count("cheat") >= 3, "at least 3 cheats (issue 13: canned, snapshot, decoy...)"

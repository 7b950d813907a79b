"""Every lab proves itself (DESIGN.md, principle 3), for every lab the catalog finds:

* the reference solution passes every check;
* the starter fails exactly the checks its planted bugs name (plus bonus checks);
* each planted bug alone, re-planted into the solution by its mutation, fails exactly
  the checks named for it. The mutant runs only those checks plus one smoke check (the
  lab's first other check that is not ``timed``, else its first other check, which must
  still pass): the solution's run has already
  shown every other check passing on the same code. ``LAB_SELFCHECK_FULL=1`` runs every
  check against every mutant instead;
* every scenario in tests/scenarios/<lab>/ (known-wrong fixes, cheats that try to pass
  without doing the work, and valid alternative fixes) gets its golden verdicts. A
  scenario is a ``scenario.toml`` (description, base, kind: wrong | cheat | valid,
  ``[expected]`` verdicts, and optionally ``[kinds]``: the failure kind a failing check
  must name, whose hint the result must carry) with whole files under ``files/`` and/or
  ``[[edits]]`` (file, find, replace: ``find`` must occur exactly once), applied on top
  of its base. A valid fix runs every check; a wrong fix or a cheat runs the checks its
  golden says fail plus a smoke check it says passes (``scenario_checks``), as the
  mutants do: CI's time must stay flat as labs double, and what a wrong fix must prove
  is that it is caught. ``LAB_SELFCHECK_FULL=1`` judges every golden whole.

``LAB_RERUNS=N`` runs each case N times and requires identical verdicts (the flakiness
mode; CI uses 1), each run with probe values of its own. With one run, a case's probe
values come from a seed fixed by its test id (``seed_of``), so CI judges the same draws
every time; ``LAB_SEED=N`` sets the seed of every case (a failure prints the one it had).

A case none of whose checks is ``timed`` (lab.toml: its verdict depends on elapsed
time; a case that runs every check is timed if any check of its lab is) runs in the
pool, ``LAB_SELFCHECK_JOBS`` (default 2) at a time, each run in a process of its own on
the session's servers (as `lab grade -j 2` does): the first test that judges a case
starts all the selected pooled ones, and each test then judges its own case's verdicts.
A case that runs a timed check runs one at a time, alone, so a busy CPU cannot flip it.
``LAB_SELFCHECK_JOBS=1`` runs everything one at a time.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import tomllib
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from checker import runner
from checker.catalog import Bug, Catalog, Lab, Mutation
from checker.manifest import Check
from checker.paths import state_dir
from checker.workspace import Workspace, compose

from .conftest import ROOT

RERUNS = int(os.environ.get("LAB_RERUNS", "1"))
FULL = os.environ.get("LAB_SELFCHECK_FULL", "") not in ("", "0")
LABS = Catalog(ROOT).labs
SCENARIOS = ROOT / "tests" / "scenarios"
JOBS = int(os.environ.get("LAB_SELFCHECK_JOBS", "2"))
#: The pooled cases' node ids, the seconds the pool took and the test that waited for it
#: (tests/conftest.py files that time under the pool's own line).
POOL: dict = {"nodes": set(), "seconds": 0.0, "carrier": None}

pytestmark = pytest.mark.slow


Runs = list[dict]  # per run: {"error": str | None, "checks": {id: [status, message, kind, hint]}}


def seed_of(nodeid: str) -> int | None:
    """The probe values' seed of a case: fixed by its test's id, so that CI judges the
    same draws every time (a cheat that special-cases one probe value passes the draws
    that hit it, about one in thousands: a golden must not flip on that). ``LAB_SEED``
    picks one for every case; with ``LAB_RERUNS`` above 1 every run draws its own, to
    find the values a verdict depends on."""
    if os.environ.get("LAB_SEED", "").isdigit():
        return int(os.environ["LAB_SEED"])
    return None if RERUNS > 1 else zlib.crc32(nodeid.encode()) % 10**9


def _run_here(lab: Lab, ws: Workspace, only: set[str] | None, seed: int | None) -> Runs:
    runs = []
    for _ in range(RERUNS):
        options = runner.RunOptions.from_env()
        options.seed = seed
        result = runner.run(lab, ws, state=state_dir(ROOT), only=only or (), options=options)
        runs.append({
            "error": str(result.error) if result.error else None,
            "seed": result.seed,
            "checks": {c.id: [c.status, c.message, c.kind, c.hint] for c in result.checks},
        })  # fmt: skip
    return runs


def _run_apart(lab: Lab, ws: Workspace, only: set[str] | None, seed: int | None) -> Runs:
    """The same runs in a process of its own (tests/selfcheck_run.py)."""
    proc = subprocess.run(
        [sys.executable, "-m", "tests.selfcheck_run", lab.id, str(ws.path), ws.target,
         ",".join(sorted(only or ())), str(RERUNS)],
        cwd=ROOT, capture_output=True, text=True, timeout=300 * RERUNS,
        env={**os.environ, "LAB_SEED": "" if seed is None else str(seed)},
    )  # fmt: skip
    if proc.returncode != 0:
        return [{"error": f"the case's process failed:\n{proc.stderr[-3000:]}", "checks": {}}]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def judged(runs: Runs, only: set[str] | None = None) -> dict[str, str]:
    """The check statuses of the runs (of the checks in ``only``, if given), which must
    all agree."""
    seen: list[dict[str, str]] = []
    for run in runs:
        assert run["error"] is None, f"the run could not be judged: {run['error']}"
        seen.append({cid: c[0] for cid, c in run["checks"].items() if not only or cid in only})
        if seen[0] != seen[-1]:
            why = {  # both runs' messages: the one that failed says why
                cid: [runs[0]["checks"].get(cid, ["", ""])[1], c[1]]
                for cid, c in run["checks"].items()
                if c[0] != seen[0].get(cid)
            }
            pytest.fail(f"verdicts differ between reruns:\n{seen[0]}\n{seen[-1]}\n{why}")
    return seen[0]


def failing(v: dict[str, str]) -> set[str]:
    return {cid for cid, status in v.items() if status != "pass"}


# ---------------------------------------------------------------- the cases

Case = tuple[Callable[[], contextlib.AbstractContextManager[Workspace]], set[str] | None]


def solution_case(lab: Lab) -> Case:
    return (lambda: compose(lab)), None


def starter_case(lab: Lab) -> Case:
    return (lambda: Workspace(lab.path, "starter")), None


def bug_case(lab: Lab, bug: Bug) -> Case:
    smoke = smoke_check(lab, bug)
    only = None if FULL else {*bug.checks, *([smoke] if smoke else [])}
    return (lambda: compose(lab, mutations=bug.mutations)), only


def smoke_check(lab: Lab, bug: Bug) -> str | None:
    """The lab's first check the bug must leave passing: it proves the mutant still
    runs and answers, so its named checks fail for the bug's reason, not a crash."""
    return _first_untimed(c for c in lab.checks if c.id not in bug.checks and not c.bonus)


def _first_untimed(checks: Iterable[Check]) -> str | None:
    """The first of ``checks`` that is not timed, else the first: a smoke check that is
    not timed keeps its case in the pool (``pooled``)."""
    found = list(checks)
    return next((c.id for c in found if not c.timed), found[0].id if found else None)


def scenario_case(lab: Lab, case: Path) -> Case:
    spec = tomllib.loads((case / "scenario.toml").read_text())
    overlays = [case / "files"] if (case / "files").is_dir() else []
    edits = [Mutation(e["file"], e["find"], e["replace"]) for e in spec.get("edits", [])]
    base = spec.get("base", "solution")
    return (
        lambda: compose(lab, solution=base == "solution", overlays=overlays, mutations=edits)
    ), scenario_checks(lab, spec)


def scenario_checks(lab: Lab, spec: dict) -> set[str] | None:
    """The checks a scenario's case runs: every one for a valid fix (no check may reject
    it); for a wrong fix or a cheat, the ones its golden says fail plus one it says
    passes (the smoke: the service still runs and answers, so the others fail for the
    scenario's reason), as for the mutants. ``LAB_SELFCHECK_FULL=1`` runs every check,
    and then the whole golden is judged."""
    if FULL or spec["kind"] == "valid":
        return None
    expected = spec["expected"]
    fails = {cid for cid, verdict in expected.items() if verdict != "pass"}
    smoke = _first_untimed(c for c in lab.checks if expected.get(c.id) == "pass" and not c.bonus)
    return fails | ({smoke} if smoke else set())


def pooled(lab: Lab, only: set[str] | None) -> bool:
    """Whether a case may run beside another: none of the checks it runs (every check
    of the lab, if ``only`` is None) is ``timed``."""
    return not any(c.timed for c in lab.checks if only is None or c.id in only)


def lab_cases(lab: Lab) -> Iterator[Case]:
    """Every case of a lab: its solution, starter, mutants and scenarios."""
    yield solution_case(lab)
    yield starter_case(lab)
    for bug in lab.bugs:
        yield bug_case(lab, bug)
    for case in sorted((SCENARIOS / lab.id).glob("*/scenario.toml")):
        yield scenario_case(lab, case.parent)


def _case_of(item: pytest.Item) -> tuple[Lab, Case] | None:
    """The case a collected test of this module runs, if it runs in the pool."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    lab = params.get("lab")
    if item.module.__name__ != __name__ or lab is None:
        return None
    makers = {
        "test_solution_passes_every_check": lambda: solution_case(lab),
        "test_starter_fails_exactly_its_planted_bugs": lambda: starter_case(lab),
        "test_each_planted_bug_alone_is_caught": lambda: bug_case(lab, params["bug"]),
        "test_scenario_matches_its_golden_verdicts": lambda: scenario_case(lab, params["case"]),
    }
    make = makers.get(item.originalname)
    case = make() if make else None
    return (lab, case) if case and pooled(lab, case[1]) else None


@pytest.fixture(scope="module")
def prefetched(request: pytest.FixtureRequest) -> Iterator[dict[str, Runs]]:
    """The runs of every selected pooled case (``pooled``), JOBS at a time."""
    jobs: dict[str, tuple[Lab, Case]] = {}
    if JOBS > 1:
        for item in request.session.items:
            found = _case_of(item)
            if found:
                jobs[item.nodeid] = found
    done: dict[str, Runs] = {}

    def one(nodeid: str, lab: Lab, case: Case) -> Runs:
        workspace, only = case
        try:
            with workspace() as ws:
                return _run_apart(lab, ws, only, seed_of(nodeid))
        except Exception as exc:  # reported by the case's own test, not by all of them
            return [{"error": f"{type(exc).__name__}: {exc}", "checks": {}}]

    POOL["nodes"] = set(jobs)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(JOBS, 1)) as pool:
        futures = {
            nodeid: pool.submit(one, nodeid, lab, case) for nodeid, (lab, case) in jobs.items()
        }
        for nodeid, fut in futures.items():
            done[nodeid] = fut.result()
    POOL["seconds"] = time.monotonic() - started
    yield done


#: The runs each test judged, by node id: what a failing assertion explains itself with.
_SEEN: dict[str, Runs] = {}


def why(request: pytest.FixtureRequest, ids: set[str]) -> str:
    """The kind and message of the checks ``ids`` in the test's first run: a verdict
    that differs from the golden says what the learner would have read."""
    runs = _SEEN.get(request.node.nodeid) or [{"checks": {}}]
    lines = []
    for cid in sorted(ids):
        status, message, kind, _ = runs[0]["checks"].get(cid, ["?", "", "", ""])
        lines.append(f"  {cid}: {status} [{kind or '-'}] {message[:600]}")
    lines.append(f"  (seed {runs[0].get('seed')}: LAB_SEED=<seed> draws the same probe values)")
    return "\n".join(lines)


def verdicts(request: pytest.FixtureRequest, lab: Lab, case: Case,
             kinds: dict[str, str] | None = None) -> dict[str, str]:  # fmt: skip
    """The case's verdicts; with ``kinds``, every run must also name those failure kinds
    and carry the hint the manifest maps to each."""
    workspace, only = case
    runs = request.getfixturevalue("prefetched").get(request.node.nodeid)
    POOL["carrier"] = POOL["carrier"] or request.node.nodeid
    if runs is None:
        with workspace() as ws:
            runs = _run_here(lab, ws, only, seed_of(request.node.nodeid))
    _SEEN[request.node.nodeid] = runs
    got = judged(runs, only)
    for run in runs:
        for cid, kind in (kinds or {}).items():
            _, message, got_kind, hint = run["checks"][cid]
            assert got_kind == kind, f"{cid}: kind {got_kind!r} ({message})"
            assert hint == lab.check(cid).hint_for(kind), f"{cid}: the hint of its kind"
    return got


# ---------------------------------------------------------------- the tests


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.id)
def test_solution_passes_every_check(request, lab):
    bad = failing(verdicts(request, lab, solution_case(lab)))
    assert bad == set(), why(request, bad)


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.id)
def test_starter_fails_exactly_its_planted_bugs(request, lab):
    v = verdicts(request, lab, starter_case(lab))
    expected = lab.expected_starter_failures()
    assert failing(v) == expected, (
        f"unexpected failures: {sorted(failing(v) - expected)}; "
        f"missed: {sorted(expected - failing(v))}\n{why(request, failing(v) ^ expected)}"
    )


@pytest.mark.parametrize(
    ("lab", "bug"),
    [(lab, bug) for lab in LABS for bug in lab.bugs],
    ids=lambda x: getattr(x, "id", None),
)
def test_each_planted_bug_alone_is_caught(request, lab, bug):
    case = bug_case(lab, bug)
    v = verdicts(request, lab, case)
    only = case[1]
    assert only is None or set(v) == only, f"checks run: {sorted(v)}"
    assert failing(v) == set(bug.checks), (
        f"bug {bug.id}: expected exactly {sorted(bug.checks)} to fail, got {sorted(failing(v))}"
        f"\n{why(request, failing(v) ^ set(bug.checks))}"
    )


def _scenarios():
    for lab in LABS:
        for case in sorted((SCENARIOS / lab.id).glob("*/scenario.toml")):
            yield pytest.param(lab, case.parent, id=f"{lab.id}-{case.parent.name}")


@pytest.mark.parametrize(("lab", "case"), list(_scenarios()))
def test_scenario_matches_its_golden_verdicts(request, lab: Lab, case: Path):
    spec = tomllib.loads((case / "scenario.toml").read_text())
    assert spec["kind"] in ("wrong", "cheat", "valid")
    expected = spec["expected"]
    assert set(expected) == {c.id for c in lab.checks}, "the golden names every check"
    if spec["kind"] == "valid":
        assert set(expected.values()) == {"pass"}, "a valid alternative passes everything"
    else:
        assert "fail" in expected.values(), "a known-wrong fix or a cheat fails something"
    assert (case / "files").is_dir() or spec.get("edits"), "a scenario changes something"
    make, only = scenario_case(lab, case)
    got = verdicts(request, lab, (make, only), spec.get("kinds"))
    expected = {cid: v for cid, v in expected.items() if only is None or cid in only}
    differ = {cid for cid in expected if got.get(cid) != expected[cid]}
    assert got == expected, f"{spec['description']}: got {got}\n{why(request, differ)}"


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.id)
def test_every_lab_has_scenarios_of_every_kind(lab):
    kinds = [
        tomllib.loads(p.read_text())["kind"] for p in (SCENARIOS / lab.id).glob("*/scenario.toml")
    ]
    assert kinds.count("wrong") >= 4, "at least 4 known-wrong fixes"
    assert kinds.count("valid") >= 2, "at least 2 valid alternatives"
    assert kinds.count("cheat") >= 3, "at least 3 cheats (canned answers, snapshots, decoys...)"


def test_a_run_of_some_checks_runs_only_those(fixture_course: Path):
    lab = Catalog(fixture_course).get("hello")
    with compose(lab) as ws:
        result = runner.run(lab, ws, state=state_dir(ROOT), only={"greets"})
    assert result.error is None, result.error
    assert {c.id: c.status for c in result.checks} == {
        "greets": "pass", "stores_in_db": "skip", "uses_redis": "skip",
    }  # fmt: skip
    with pytest.raises(ValueError, match="nope"):
        runner.run(lab, ws, state=state_dir(ROOT), only={"nope"})

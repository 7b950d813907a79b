"""The authors' tools: `lab new` scaffolds a lab that passes its own self-verification,
and `lab dev check` finds what is missing or inconsistent, in seconds, without a run.

Everything happens in a copy of this repository's tracked files: nothing is left in
the tree.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from checker import runner
from checker.catalog import Catalog, Mutation
from checker.grading.release import _tracked
from checker.paths import state_dir
from checker.workspace import Workspace, compose

from .conftest import ROOT, lab_cli

NEW = "rate-limits"
#: `lab new` puts a lab last by default: after every lab the course has.
ORDER = max(lab.order for lab in Catalog(ROOT).labs) + 1
DIR = f"{ORDER:02d}-{NEW}"


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A copy of the course (tracked files) with `lab new rate-limits` run in it."""
    dest = tmp_path_factory.mktemp("authoring") / "course"
    for rel in _tracked(ROOT):
        if rel.parts[0] in ("labs", "solutions", "notebooks", "docs", "checker", "tests"):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dest / rel)
    proc = lab_cli("new", NEW, "--title", "Rate limits that hold", cwd=dest, env=_env(dest))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"labs/{DIR}/lab.toml" in proc.stdout
    return dest


def _env(course: Path) -> dict[str, str]:
    return {"LAB_COURSE_DIR": str(course), "LAB_CHECKS_DIR": str(course / "checker" / "checks")}


def test_new_scaffolds_every_folder(course: Path):
    for rel in (f"labs/{DIR}/lab.toml", f"labs/{DIR}/README.md",
                f"labs/{DIR}/app/main.py", f"labs/{DIR}/tests/test_public.py",
                f"solutions/{DIR}/app/main.py", f"solutions/{DIR}/bugs.toml",
                "checker/checks/rate_limits/test_hello.py", f"notebooks/{DIR}.ipynb",
                "docs/labs/rate-limits.md"):  # fmt: skip
        assert (course / rel).is_file(), rel
    assert len(list((course / "tests/scenarios/rate-limits").glob("*/scenario.toml"))) == 2
    lab = Catalog(course).get(NEW)
    assert lab.order == ORDER and lab.title == "Rate limits that hold"
    assert not list(ROOT.glob("labs/*-rate-limits")), "nothing is left in the real tree"


def test_new_refuses_an_existing_or_malformed_id(course: Path):
    for bad in (NEW, "crud", "Rate_Limits"):
        proc = lab_cli("new", bad, cwd=course, env=_env(course))
        assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "already a lab" in lab_cli("new", "crud", cwd=course, env=_env(course)).stderr


def test_dev_check_passes_on_the_course_and_the_skeleton(course: Path):
    proc = lab_cli("dev", "check", cwd=course, env=_env(course))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (
        f"{len(Catalog(ROOT).labs) + 1} labs checked" in proc.stdout and "all good" in proc.stdout
    )
    assert "to do: 1 wrong scenarios" in proc.stdout  # the skeleton has one of each


def test_the_skeleton_passes_its_own_self_verification(course: Path, monkeypatch):
    monkeypatch.setenv("LAB_CHECKS_DIR", str(course / "checker" / "checks"))
    lab = Catalog(course).get(NEW)
    state = state_dir(ROOT)

    def failing(ws: Workspace, only=()) -> set[str]:
        result = runner.run(lab, ws, state=state, only=only)
        assert result.error is None, result.error
        return {c.id for c in result.checks if c.status not in ("pass", "skip")}

    with compose(lab) as ws:
        assert failing(ws) == set()
    assert failing(Workspace(lab.path, "starter")) == lab.expected_starter_failures()
    (bug,) = lab.bugs
    with compose(lab, mutations=bug.mutations) as ws:
        assert failing(ws) == set(bug.checks)
    for case in sorted((course / "tests" / "scenarios" / NEW).glob("*/scenario.toml")):
        spec = tomllib.loads(case.read_text())
        edits = [Mutation(e["file"], e["find"], e["replace"]) for e in spec["edits"]]
        with compose(lab, mutations=edits) as ws:
            expected = {cid for cid, status in spec["expected"].items() if status != "pass"}
            assert failing(ws) == expected, case.parent.name


@pytest.mark.parametrize(
    ("path", "edit", "words"),
    [
        (
            f"solutions/{DIR}/bugs.toml",
            lambda t: t.replace('find = "status_code=status.HTTP_200_OK"', 'find = "nowhere"'),
            "occurs 0 times",
        ),
        (
            "checker/checks/rate_limits/test_hello.py",
            lambda t: t.replace("def test_hello_answers_200", "def test_hello_answers"),
            "'hello_answers_200' has no test",
        ),
        (
            "tests/scenarios/rate-limits/status-203/scenario.toml",
            lambda t: t.replace('health_answers = "pass"\n', ""),
            "missing: health_answers",
        ),
        (
            f"labs/{DIR}/lab.toml",
            lambda t: t.replace("minutes = 30", "minuts = 30"),
            "Did you mean 'minutes'?",
        ),
        (
            f"notebooks/{DIR}.ipynb",
            lambda t: t.replace('"svc.stop()"', '"svc.stop("'),
            "notebook cell 3 does not parse",
        ),
    ],  # fmt: skip
)
def test_dev_check_names_what_is_wrong(course: Path, path: str, edit, words: str):
    file = course / path
    before = file.read_text()
    file.write_text(edit(before))
    try:
        proc = lab_cli("dev", "check", NEW, cwd=course, env=_env(course))
    finally:
        file.write_text(before)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert words in proc.stdout, proc.stdout


@pytest.mark.parametrize("verb", [["new"], ["dev"], ["dev", "check"]])
def test_the_authors_verbs_have_help(verb):
    res = lab_cli(*verb, "--help")
    assert res.returncode == 0, res.stderr
    assert "Usage: lab " in res.stdout and len(res.stdout.strip().splitlines()) > 3

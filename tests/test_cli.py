"""The `lab` command as a user meets it, on the fixture course (lab `hello`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from .conftest import FIXTURE_CHECKS, FIXTURE_COURSE, lab_cli

VERBS = ["list", "check", "watch", "hint", "reset", "solution", "progress", "services", "docs",
         "notebook"]  # fmt: skip


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A private copy of the fixture course, as a git repository (for `reset`)."""
    root = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, root)
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "course"],
    ):
        subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)
    monkeypatch.setenv("LAB_COURSE_DIR", str(root))
    monkeypatch.setenv("LAB_CHECKS_DIR", str(FIXTURE_CHECKS))
    for name in ("progress.jsonl", "hints.json"):  # a fresh learner history per test
        (Path(os.environ["LAB_HOME"]) / name).unlink(missing_ok=True)
    return root


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_has_help(verb):
    res = lab_cli(verb, "--help")
    assert res.returncode == 0, res.stderr
    assert "Usage: lab " in res.stdout and len(res.stdout.strip().splitlines()) > 3


def test_usage_mistakes_exit_3(course):
    res = lab_cli("check", "nosuch")
    assert res.returncode == 3
    assert "There is no lab called 'nosuch'" in res.stderr and "hello" in res.stderr
    assert lab_cli("check").returncode == 3
    assert lab_cli("frobnicate").returncode == 3
    assert lab_cli("check", "hello", "--format", "yaml").returncode == 3
    res = lab_cli("check", "hello", "--path", str(course / "nowhere"))
    assert res.returncode == 3 and "no such folder" in res.stderr


def test_malformed_manifest_exit_3_names_file_and_field(course):
    manifest = course / "labs" / "01-hello" / "lab.toml"
    manifest.write_text(manifest.read_text().replace("points = 2", "points = -2"))
    res = lab_cli("check", "hello")
    assert res.returncode == 3
    assert "lab.toml" in res.stderr and "checks[0].points" in res.stderr


def test_check_json_fail_then_solution_pass(course):
    res = lab_cli("check", "hello", "--json")
    assert res.returncode == 1, res.stderr
    data = json.loads(res.stdout)
    assert data["status"] == "fail" and data["lab"] == "hello"
    by_id = {c["id"]: c for c in data["checks"]}
    assert by_id["greets"]["status"] == "fail"
    assert "expected 200" in by_id["greets"]["message"]
    assert by_id["greets"]["hint"]
    assert by_id["stores_in_db"]["status"] == "pass" and by_id["stores_in_db"]["hint"] == ""
    assert data["measurements"]["stores_in_db"]["rows_added"] == 1
    assert "test_" not in res.stdout, "hidden test code is never quoted"

    res = lab_cli("check", "hello", "--solution", "--json")
    assert res.returncode == 0, res.stdout + res.stderr
    data = json.loads(res.stdout)
    assert data["status"] == "pass" and data["score"] == data["max_score"] == 4


def test_check_text_report_shows_failures_hints_and_score(course):
    res = lab_cli("check", "hello")
    assert res.returncode == 1
    out = res.stdout
    assert "GET /hello answered 418; expected 200 OK." in out
    assert "Which status says 'here it is'?" in out
    assert "score 2/4" in out


def test_gradescope_and_junit_outputs(course, tmp_path):
    out = tmp_path / "results.json"
    res = lab_cli("check", "hello", "--format", "gradescope", "--output", str(out))
    assert res.returncode == 1
    doc = json.loads(out.read_text())
    assert doc["score"] == 2 and len(doc["tests"]) == 3
    res = lab_cli("check", "hello", "--format", "junit")
    suite = ET.fromstring(res.stdout.split("\n", 1)[1]).find("testsuite")
    assert suite.get("failures") == "1" and suite.get("tests") == "3"


def test_unreachable_database_url_exits_2_with_a_clear_message(course):
    res = lab_cli("check", "hello", "--json",
                  env={"LAB_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/postgres"})  # fmt: skip
    assert res.returncode == 2
    data = json.loads(res.stdout)
    assert data["status"] == "error"
    assert "LAB_DATABASE_URL" in data["error"]["message"]


def test_hint_progress_and_solution_gate(course):
    assert lab_cli("solution", "hello").returncode == 1, "no reference before a pass"
    check = lab_cli("check", "hello")
    assert "Hint: Which status" in check.stdout, "the check shows the first hint"
    first = lab_cli("hint", "hello")
    second = lab_cli("hint", "hello")
    assert "Hint 2/2" in first.stdout and "RFC 9110" in first.stdout, "`lab hint` goes on"
    assert "Hint 2/2" in second.stdout and "the last hint" in second.stdout
    prog = lab_cli("progress")
    assert "hello" in prog.stdout and "2/4" in prog.stdout
    # Fix the bug in the learner's folder, pass, and the reference unlocks.
    main = course / "labs" / "01-hello" / "app" / "main.py"
    main.write_text(main.read_text().replace("status_code=418", "status_code=200"))
    assert lab_cli("check", "hello").returncode == 0
    sol = lab_cli("solution", "hello")
    assert sol.returncode == 0 and "reference/app/main.py" in sol.stdout
    listing = lab_cli("list")
    assert "4/4" in listing.stdout


def test_hint_follows_the_kind_of_failure(course):
    """A failure kind the manifest maps gets its own hints, in the report, the result and
    `lab hint`; its levels are counted apart from the check's default hints."""
    manifest = course / "labs" / "01-hello" / "lab.toml"
    manifest.write_text(
        manifest.read_text().replace(
            'hints = ["Which status says \'here it is\'?", "RFC 9110 section 15.3.1."]\n',
            'hints = ["Which status says \'here it is\'?", "RFC 9110 section 15.3.1."]\n\n'
            "[checks.kind_hints]\n"
            'wrong-status = ["It answers, with a teapot\'s status.", "200 means OK."]\n',
        )
    )
    checked = lab_cli("check", "hello", "--json")
    greets = next(c for c in json.loads(checked.stdout)["checks"] if c["id"] == "greets")
    assert greets["kind"] == "wrong-status"
    assert greets["hint"] == "It answers, with a teapot's status."
    assert "teapot" in lab_cli("check", "hello").stdout
    # `lab check` showed the kind's first hint; `lab hint` goes on from there: the kind's
    # next hint, then the check's general ones.
    first, second = lab_cli("hint", "hello"), lab_cli("hint", "hello")
    assert "Hint 2/4" in first.stdout and "200 means OK" in first.stdout
    assert "Hint 3/4" in second.stdout and "Which status says" in second.stdout


def test_reset_asks_backs_up_and_restores(course):
    main = course / "labs" / "01-hello" / "app" / "main.py"
    shipped = main.read_text()
    main.write_text(shipped + "\n# my work\n")
    (course / "labs" / "01-hello" / "app" / "extra.py").write_text("x = 1\n")
    res = lab_cli_input("n\n", "reset", "hello")
    assert res.returncode == 3 and "use --yes" in res.stderr, "no terminal to ask in"
    assert main.read_text().endswith("# my work\n")
    res = lab_cli_input("", "reset", "hello", "--yes")
    assert res.returncode == 0, res.stderr
    assert main.read_text() == shipped
    assert not (course / "labs" / "01-hello" / "app" / "extra.py").exists()
    backups = sorted(Path(os.environ["LAB_HOME"]).glob("backups/01-hello-*"))
    assert backups, "the discarded work is backed up"
    assert (backups[-1] / "app" / "main.py").read_text().endswith("# my work\n")


def lab_cli_input(text: str, *args: str):
    return subprocess.run(
        [sys.executable, "-m", "checker", *args], input=text, capture_output=True, text=True,
        timeout=60, env={**os.environ, "COLUMNS": "120"},
    )  # fmt: skip


def test_services_status_up_down():
    res = lab_cli("services", "up")
    assert res.returncode == 0, res.stderr
    assert "postgres" in res.stdout and "redis" in res.stdout
    status = lab_cli("services", "status")
    assert status.stdout.count("running") >= 2
    if os.environ.get("LAB_DATABASE_URL"):
        assert "external" in status.stdout
    else:
        assert "embedded" in status.stdout and "18." in status.stdout

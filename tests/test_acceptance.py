"""The foundation issue's acceptance list, on the real lab 01, as a new user runs it."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path
from xml.etree import ElementTree as ET

from checker.catalog import Catalog

from .conftest import ROOT, lab_cli, our_processes

CRUD = Catalog(ROOT).get("crud")


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_solution_passes_with_full_score():
    res = lab_cli("check", "crud", "--solution", "--json")
    data = json.loads(res.stdout)
    assert res.returncode == 0, data
    assert data["status"] == "pass" and data["score"] == data["max_score"] == CRUD.max_score


def test_starter_fails_with_messages_and_hints_and_is_left_untouched():
    before = tree_digest(CRUD.path)
    res = lab_cli("check", "crud", "--json")
    assert tree_digest(CRUD.path) == before, "a check modified the learner's folder"
    data = json.loads(res.stdout)
    assert res.returncode == 1 and data["status"] == "fail"
    failing = [c for c in data["checks"] if c["status"] == "fail"]
    assert len(failing) >= 6
    for c in failing:
        assert c["message"].strip() and c["hint"].strip(), c
        assert "assert " not in c["message"] and "def test" not in c["message"]


def test_syntax_error_copy_gets_an_error_verdict_quickly(tmp_path):
    copy = tmp_path / "crud-copy"
    shutil.copytree(CRUD.path, copy)
    main = copy / "app" / "main.py"
    main.write_text(main.read_text() + "\ndef broken(:\n")
    t0 = time.monotonic()
    res = lab_cli("check", "crud", "--path", str(copy), "--json")
    took = time.monotonic() - t0
    data = json.loads(res.stdout)
    assert res.returncode == 2 and data["status"] == "error"
    assert took < 30
    assert "SyntaxError" in data["error"]["log_tail"]
    assert our_processes(str(copy)) == []


def test_gradescope_and_junit_for_crud():
    gs = json.loads(lab_cli("check", "crud", "--format", "gradescope").stdout)
    assert {"score", "tests"} <= set(gs)
    assert sum(t["max_score"] for t in gs["tests"]) == CRUD.max_score
    assert all({"name", "score", "max_score", "status", "output"} <= set(t) for t in gs["tests"])
    xml = lab_cli("check", "crud", "--format", "junit").stdout
    suite = ET.fromstring(xml.split("\n", 1)[1]).find("testsuite")
    assert int(suite.get("tests")) == len(CRUD.checks)
    assert int(suite.get("failures")) >= 6

"""The result contract and its renderings."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

from checker.results import CheckResult, RunError, RunResult


def sample(error: bool = False) -> RunResult:
    r = RunResult(lab="crud", target="labs/01-crud", started_at="2026-11-23T10:00:00+00:00")
    r.checks = [
        CheckResult("a", "A works", "pass", 2, duration_s=0.1),
        CheckResult("b", "B works", "fail", 3, "expected 201, got 200", "Think 201."),
        CheckResult("c", "C bonus", "skip", 1, "skipped", bonus=True),
    ]
    if error:
        r.error = RunError("service_start_failed", "did not start", "Traceback ...")
    r.duration_s = 1.234
    r.settle()
    return r


def test_json_contract_fields():
    data = json.loads(sample().to_json())
    assert set(data) == {
        "schema", "lab", "target", "status", "score", "max_score", "started_at", "duration_s",
        "checks", "error", "measurements",
    }  # fmt: skip
    assert data["schema"] == 1 and data["status"] == "fail"
    assert (data["score"], data["max_score"]) == (2, 6)
    assert set(data["checks"][1]) >= {"id", "title", "status", "points", "message", "hint",
                                      "duration_s"}  # fmt: skip
    assert RunResult.from_dict(data).to_dict() == data, "JSON round-trips"


def test_status_and_exit_codes():
    assert sample().exit_code == 1
    assert sample(error=True).status == "error" and sample(error=True).exit_code == 2
    ok = sample()
    ok.checks[1].status = "pass"
    ok.settle()
    assert (ok.status, ok.exit_code, ok.score) == ("pass", 0, 5)


def test_gradescope_results_json():
    doc = json.loads(sample(error=True).to_gradescope())
    assert doc["score"] == 2
    assert [t["max_score"] for t in doc["tests"]] == [2, 3, 1]
    assert doc["tests"][1]["status"] == "failed"
    assert "expected 201, got 200" in doc["tests"][1]["output"]
    assert "Hint: Think 201." in doc["tests"][1]["output"]
    assert all(t["visibility"] in {"visible", "hidden", "after_due_date", "after_published"}
               for t in doc["tests"])  # fmt: skip
    assert "did not start" in doc["output"]


def test_junit_xml():
    root = ET.fromstring(sample().to_junit().split("\n", 1)[1])
    suite = root.find("testsuite")
    assert (
        suite.get("tests") == "3" and suite.get("failures") == "1" and suite.get("skipped") == "1"
    )
    failed = suite.find("testcase[@name='b']/failure")
    assert failed is not None and failed.get("message") == "expected 201, got 200"

"""Bad learner code gets a verdict, not a traceback, within its limit, and leaves no
process behind (DESIGN.md, principle 5)."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import pytest

from .conftest import FIXTURE_COURSE, lab_cli, our_processes

HELLO = FIXTURE_COURSE / "labs" / "01-hello"


@pytest.fixture
def copy(hello_copy):
    return hello_copy


def run_json(copy, *extra_env_and_args, env=None, limit=30):
    t0 = time.monotonic()
    res = lab_cli("check", "hello", "--path", str(copy), "--json", env=env or {})
    took = time.monotonic() - t0
    assert took < limit, f"the verdict took {took:.1f} s (limit {limit} s)"
    data = json.loads(res.stdout)
    assert our_processes(str(copy)) == [], "a process of the run outlived it"
    return res.returncode, data


def test_syntax_error(copy):
    main = copy / "app" / "main.py"
    main.write_text(main.read_text().replace("def hello():", "def hello(:"))
    code, data = run_json(copy)
    assert code == 2 and data["status"] == "error"
    assert data["error"]["kind"] == "service_start_failed"
    assert "SyntaxError" in data["error"]["log_tail"]
    assert all(c["status"] == "error" for c in data["checks"])


def test_import_error(copy):
    main = copy / "app" / "main.py"
    main.write_text("import no_such_module_anywhere\n" + main.read_text())
    code, data = run_json(copy)
    assert code == 2 and data["error"]["kind"] == "service_start_failed"
    assert "ModuleNotFoundError" in data["error"]["log_tail"]


def test_service_that_never_becomes_healthy(copy):
    code, data = run_json(copy, env={"HELLO_SLOW_START": "3600", "LAB_START_TIMEOUT": "4"})
    assert code == 2 and data["error"]["kind"] == "service_unhealthy"
    assert "did not become healthy within 4 s" in data["error"]["message"]


def test_handler_that_hangs(copy):
    code, data = run_json(copy, env={"HELLO_CHECK_HANG": "1", "LAB_HTTP_TIMEOUT": "1"})
    assert code == 1
    greets = next(c for c in data["checks"] if c["id"] == "greets")
    assert greets["status"] == "fail"
    assert "did not answer GET /hang in time" in greets["message"]


def test_checks_that_outrun_the_time_limit(copy):
    env = {"HELLO_CHECK_HANG": "1", "LAB_HTTP_TIMEOUT": "60", "LAB_CHECKS_TIMEOUT": "3"}
    code, data = run_json(copy, env=env)
    assert code == 2 and data["error"]["kind"] == "timeout"


def test_service_that_crashes_mid_run(copy):
    main = copy / "app" / "main.py"
    main.write_text(
        main.read_text().replace(
            '    return {"greeting": "hello"}', "    import os\n    os._exit(1)"
        )
    )
    code, data = run_json(copy)
    assert code == 2 and data["status"] == "error"
    assert data["error"]["kind"] == "service_crashed"
    assert "exit code 1" in data["error"]["message"]
    greets = next(c for c in data["checks"] if c["id"] == "greets")
    assert greets["status"] == "fail" and "crashed" in greets["message"]


def test_log_flood_is_stopped(copy):
    code, data = run_json(copy, env={"HELLO_LOG_FLOOD": "1", "LAB_LOG_LIMIT_MB": "5"})
    assert code == 2 and data["error"]["kind"] == "log_flood"
    assert "more than 5 MB" in data["error"]["message"]


def test_a_port_taken_meanwhile_is_retried(copy, monkeypatch):
    """Between picking a free port and the service binding it, another program may take
    it: the run moves to another port instead of blaming the learner's code."""
    from checker import process, runner
    from checker.catalog import Catalog
    from checker.services.base import free_port
    from checker.workspace import Workspace

    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    ports = iter([squatter.getsockname()[1]])
    monkeypatch.setattr(process, "free_port", lambda: next(ports, None) or free_port())
    monkeypatch.setenv("LAB_ZYGOTE", "0")
    lab = Catalog(FIXTURE_COURSE).get("hello")
    try:
        result = runner.run(lab, Workspace(copy, "copy"), state=Path(os.environ["LAB_HOME"]))
    finally:
        squatter.close()
    assert result.error is None, result.error
    assert result.score == 2

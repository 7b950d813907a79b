"""The fork server that starts services fast: used once warm, same verdicts as a plain
start, its children killed like any service, restarted when the installation changes."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from checker import runner
from checker.catalog import Catalog
from checker.workspace import Workspace
from checker.zygote import Zygote

from .conftest import FIXTURE_COURSE, gone_within, lab_cli, our_processes


def wait_ready(z: Zygote, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not z.ready():
        assert time.monotonic() < deadline, "the zygote never became ready"
        time.sleep(0.1)


@pytest.fixture
def hello(fixture_course, tmp_path):
    lab = Catalog(FIXTURE_COURSE).get("hello")
    dest = tmp_path / "hello-copy"
    shutil.copytree(lab.path, dest)
    return lab, dest


def test_runs_use_the_zygote_once_warm_and_agree_with_plain_starts(hello, tmp_path, monkeypatch):
    lab, copy = hello
    state = Path(os.environ["LAB_HOME"])
    z = Zygote(state)
    z.stop()
    first = runner.run(lab, Workspace(copy, "copy"), state=state)  # plain start, then warms
    wait_ready(z)
    started: list[bool] = []
    original = runner.process.Service.start

    def spy(self):
        out = original(self)
        started.append(self.via_zygote)
        return out

    monkeypatch.setattr(runner.process.Service, "start", spy)
    second = runner.run(lab, Workspace(copy, "copy"), state=state)
    assert started == [True], "a warm run starts the service through the zygote"
    assert [(c.id, c.status, c.message) for c in first.checks] == [
        (c.id, c.status, c.message) for c in second.checks
    ]
    assert our_processes(str(copy)) == []


def test_zygote_children_get_verdicts_for_bad_code(hello):
    lab, copy = hello
    state = Path(os.environ["LAB_HOME"])
    z = Zygote(state)
    if not z.ready():
        z.start_in_background()
        wait_ready(z)
    main = copy / "app" / "main.py"
    main.write_text(main.read_text().replace("def hello():", "def hello(:"))
    res = lab_cli("check", "hello", "--path", str(copy), "--json")
    data = json.loads(res.stdout)
    assert res.returncode == 2 and data["error"]["kind"] == "service_start_failed"
    assert "exit code 1" in data["error"]["message"]
    assert "SyntaxError" in data["error"]["log_tail"]
    assert our_processes(str(copy)) == []


def test_a_stale_zygote_is_replaced(tmp_path):
    z = Zygote(tmp_path)
    z.start_in_background()
    wait_ready(z)
    old_pid = int(z.pidfile.read_text().split()[0])
    z.pidfile.write_text(f"{old_pid} some-older-installation")
    z.start_in_background()
    try:
        wait_ready(z)
        new_pid = int(z.pidfile.read_text().split()[0])
        assert new_pid != old_pid
        assert gone_within(old_pid), "the stale zygote still runs"
    finally:
        z.stop()


def test_zygote_can_be_turned_off(hello, monkeypatch):
    lab, copy = hello
    monkeypatch.setenv("LAB_ZYGOTE", "0")
    assert not Zygote(Path(os.environ["LAB_HOME"])).usable()
    res = lab_cli("check", "hello", "--path", str(copy), "--json", env={"LAB_ZYGOTE": "0"})
    assert res.returncode == 1 and json.loads(res.stdout)["score"] == 2

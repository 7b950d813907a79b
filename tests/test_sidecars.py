"""checker.sidecars: every module is found, brings its fixture, and a sidecar that cannot
start is reported with its log, never waited on forever."""

from __future__ import annotations

import os
import time
from types import SimpleNamespace

import pytest

from checker import pytest_plugin
from checker.errors import ServiceError
from checker.sidecars import Sidecar, SidecarFailed, all_sidecars, for_lab
from checker.sidecars.base import Helper

from .conftest import gone_within


def test_every_sidecar_module_is_found_in_start_order():
    kinds = all_sidecars()
    assert [k.__name__ for k in kinds] == [
        "Sinks",
        "Receivers",
        "OtlpCollector",
        "RedisProxy",
        "Worker",
    ]
    assert len({k.key for k in kinds}) == len(kinds), "one manifest key each"


def test_each_sidecar_fixture_is_offered_to_the_checks():
    for kind in all_sidecars():
        if kind.fixture:
            fixture = getattr(pytest_plugin, f"_sidecar_fixture_{kind.fixture}")
            assert fixture is not None, kind


def test_a_lab_gets_only_the_sidecars_it_asks_for():
    lab = SimpleNamespace(services=("postgres", "redis", "worker"), sinks=("email",),
                          receivers=(), faults=())  # fmt: skip
    assert [k.key for k in for_lab(lab)] == ["sinks", "worker"]
    plain = SimpleNamespace(services=("postgres",), sinks=(), receivers=(), faults=())
    assert for_lab(plain) == []


def test_a_helper_that_dies_at_start_is_reported_with_its_log(tmp_path):
    t0 = time.monotonic()
    helper = Helper("test helper", "checker.sidecars.no_such_program", [], cwd=tmp_path,
                    env=dict(os.environ), run_dir=tmp_path, stem="broken")  # fmt: skip
    with pytest.raises(SidecarFailed) as info:
        helper.ports(timeout=30)
    assert time.monotonic() - t0 < 15, "a dead helper is noticed, not waited out"
    assert "The test helper did not start" in info.value.message
    assert "No module named" in info.value.log_tail
    helper.stop()
    assert gone_within(helper.pid)


def test_the_session_turns_a_sidecar_failure_into_a_service_error(tmp_path, monkeypatch):
    from checker.session import Session

    class Broken(Sidecar):
        key = "broken"
        early = True

        @classmethod
        def wanted(cls, lab):
            return True

        def start(self):
            self.helper = self.spawn("broken sidecar", "checker.sidecars.no_such_program", [],
                                     stem="broken")  # fmt: skip

        def exports(self):
            self.helper.ports(timeout=10)

    monkeypatch.setattr("checker.session.for_lab", lambda lab: [Broken])
    lab = SimpleNamespace(services=(), id="broken")
    with Session(lab, tmp_path, state=tmp_path, run_dir=tmp_path / "run", zygote=False) as s:
        with pytest.raises(ServiceError) as info:
            s.provision()
        assert "broken sidecar did not start" in info.value.message
        assert "No module named" in (info.value.detail or "")
        pid = s.sidecars[0].helpers[0].pid
    assert gone_within(pid)

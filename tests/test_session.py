"""checker.session: one run's world, provisioned on real servers and closed in reverse;
``instances = N`` starts N copies of the service on one database and Redis."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

import httpx
import psycopg
import pytest

from checker import runner
from checker.catalog import Catalog
from checker.session import Session
from checker.workspace import Workspace

from .conftest import FIXTURE_CHECKS, FIXTURE_COURSE, gone_within


def test_teardowns_run_in_reverse_and_all_run_despite_a_failure(tmp_path):
    done: list[str] = []
    session = Session(None, tmp_path, state=tmp_path, run_dir=tmp_path / "run", zygote=False)
    session.on_close(lambda: done.append("database"))
    session.on_close(lambda: (done.append("sidecar"), 1 / 0))
    session.on_close(lambda: done.append("service"))
    with pytest.raises(ZeroDivisionError):
        session.close()
    assert done == ["service", "sidecar", "database"]
    session.close()  # closing again does nothing
    assert done == ["service", "sidecar", "database"]


@pytest.fixture
def hello(fixture_course):
    return Catalog(FIXTURE_COURSE).get("hello")


def test_two_instances_share_one_database_and_one_redis(hello, tmp_path):
    lab = dataclasses.replace(hello, instances=2)
    state = Path(os.environ["LAB_HOME"])
    with Session(lab, lab.path, state=state, run_dir=tmp_path / "run") as session:
        session.provision()
        session.start_services(timeout=30)
        urls = session.checks_env["LAB_SERVICE_URLS"].split(",")
        assert len(urls) == 2 and len(set(urls)) == 2, urls
        assert session.checks_env["LAB_SERVICE_URL"] == urls[0]
        # The checks may run learner code as the service would (lab 12's migrations).
        assert session.checks_env["LAB_SERVICE_DATABASE_URL"] == session.database_url
        pids = [svc.process.pid for svc in session.services]
        assert len(set(pids)) == 2, "each instance is a process of its own"
        counts = [httpx.get(f"{u}/count").json()["count"] for u in (*urls, *urls)]
        assert counts == [1, 2, 3, 4], "both instances count in the same Redis database"
        for u in urls:
            assert httpx.post(f"{u}/notes", json={"body": "from " + u}).status_code == 201
        with psycopg.connect(session.database_url) as conn:
            bodies = {r[0] for r in conn.execute("SELECT body FROM notes")}
        assert {f"from {u}" for u in urls} <= bodies, "both write to the same database"
        assert (tmp_path / "run" / "service-2.log").exists()
        db_name = session.database_url.rsplit("/", 1)[1].split("?")[0]
        admin = session.admin_url
    assert all(gone_within(pid) for pid in pids), "no instance outlives the session"
    with psycopg.connect(admin) as conn:
        left = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db_name,))
        assert left.fetchone() is None, "the run's database is dropped at close"


def test_the_checks_see_every_instance(tmp_path, monkeypatch):
    course, checks = tmp_path / "course", tmp_path / "checks"
    shutil.copytree(FIXTURE_COURSE, course)
    shutil.copytree(FIXTURE_CHECKS / "hello", checks / "hello")
    manifest = course / "labs" / "01-hello" / "lab.toml"
    text = manifest.read_text().replace('health = "/health"', 'health = "/health"\ninstances = 2')
    manifest.write_text(
        text + '\n[[checks]]\nid = "sees_instances"\ntitle = "Two instances"\npoints = 1\n'
        'hint = "-"\n'
    )
    (checks / "hello" / "test_instances.py").write_text(
        "import httpx\n\n\n"
        "def test_sees_instances(base_url, base_urls):\n"
        "    assert len(base_urls) == 2 and base_urls[0] == base_url, base_urls\n"
        "    first, second = (httpx.get(f'{u}/count').json()['count'] for u in base_urls)\n"
        "    assert second == first + 1, (first, second)\n"
    )
    monkeypatch.setenv("LAB_COURSE_DIR", str(course))
    monkeypatch.setenv("LAB_CHECKS_DIR", str(checks))
    lab = Catalog(course).get("hello")
    assert lab.instances == 2
    result = runner.run(lab, Workspace(lab.path, "starter"), state=Path(os.environ["LAB_HOME"]))
    verdicts = {c.id: c.status for c in result.checks}
    assert result.error is None, result.error
    assert verdicts["sees_instances"] == "pass", result.checks
    assert verdicts["stores_in_db"] == "pass" and verdicts["greets"] == "fail"


def test_a_notebook_service_gets_the_same_world_as_a_check(monkeypatch):
    """The notebook API provisions through the session too: the sinks, the worker, and
    none of the user's own DATABASE_URL/REDIS_URL."""
    from checker.notebook import LabHandle

    from .conftest import FIXTURES

    course = FIXTURES / "queue_course"
    monkeypatch.setenv("LAB_COURSE_DIR", str(course))
    monkeypatch.setenv("LAB_CHECKS_DIR", str(FIXTURE_CHECKS))
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # the user's own: never used
    handle = LabHandle(Catalog(course).get("notify"))
    with handle.start() as svc:
        assert svc.redis_url and svc.redis_url != os.environ["REDIS_URL"]
        assert svc.http.post("/notify-later", json={"order_id": 9}).status_code == 202
        assert svc.sinks["email"].wait_for_count("9", timeout=20) == 1, "the worker ran it"
        session_dir = Path(os.environ["LAB_HOME"]) / "notebook" / "notify"
        assert (session_dir / "worker.log").exists()
    with handle.start(worker=False) as svc:
        assert svc.http.post("/notify-later", json={"order_id": 10}).status_code == 202
        assert svc.sinks["email"].settle(quiet=1.5) == 0, "no worker: the job waits"


def test_webhook_receivers_are_for_the_checks_only(hello, tmp_path):
    from checker.observe.sinks import Sink

    lab = dataclasses.replace(hello, receivers=("merchant_a", "merchant_b"))
    state = Path(os.environ["LAB_HOME"])
    with Session(lab, lab.path, state=state, run_dir=tmp_path / "run") as session:
        session.provision()
        urls = json.loads(session.checks_env["LAB_RECEIVERS"])
        assert sorted(urls) == ["merchant_a", "merchant_b"]
        assert not set(urls.values()) & set(session.service_env.values()), (
            "the service learns a receiver's URL only when a check registers it"
        )
        with Sink("merchant_a", urls["merchant_a"]) as receiver:
            receiver.fail_next(1, status=500)
            assert httpx.post(f"{receiver.url}/hooks", content=b"{}").status_code == 500
            assert httpx.post(f"{receiver.url}/hooks", content=b"{ }").status_code == 200
            assert [Sink.raw(c) for c in receiver.calls()] == [b"{}", b"{ }"]
        pids = [h.pid for sidecar in session.sidecars for h in sidecar.helpers]
    assert len(pids) == 2 and all(gone_within(pid) for pid in pids)


def test_checks_read_the_output_as_records_and_signal_the_service(tmp_path, monkeypatch):
    course, checks = tmp_path / "course", tmp_path / "checks"
    shutil.copytree(FIXTURE_COURSE, course)
    shutil.copytree(FIXTURE_CHECKS / "hello", checks / "hello")
    app = course / "labs" / "01-hello" / "app" / "main.py"
    app.write_text(app.read_text() + (
        "\n\n@app.get('/say')\n"
        "def say(word: str):\n"
        "    import json\n"
        "    print(json.dumps({'event': 'said', 'word': word}))\n"
        "    print('a stray line about ' + word)\n"
        "    return {}\n"
    ))  # fmt: skip
    manifest = course / "labs" / "01-hello" / "lab.toml"
    manifest.write_text(manifest.read_text() + "".join(
        f'\n[[checks]]\nid = "{cid}"\ntitle = "{cid}"\npoints = 1\nhint = "-"\n'
        for cid in ("logs_json", "stops_on_term")
    ))  # fmt: skip
    (checks / "hello" / "test_output.py").write_text(
        "def test_logs_json(http, logs):\n"
        "    mark = logs.mark()\n"
        "    http.get('/say', params={'word': 'early'})\n"
        "    since = logs.mark()\n"
        "    http.get('/say', params={'word': 'hi'})\n"
        "    line = logs.wait_for(lambda r: r['word'] == 'hi', since=since)\n"
        "    assert line is not None and line.record == {'event': 'said', 'word': 'hi'}\n"
        "    assert logs.records(since=since) == [{'event': 'said', 'word': 'hi'}]\n"
        "    assert logs.stray(since=since) == ['a stray line about hi']\n"
        "    assert len(logs.records(since=mark)) == 2\n"
        "    assert logs.wait_for('never printed', timeout=0.2) is None\n"
        "\n\n"
        "def test_stops_on_term(service):\n"
        "    assert service.alive()\n"
        "    service.signal('SIGTERM')\n"
        "    assert service.wait_exit(timeout=10), 'uvicorn stops on SIGTERM'\n"
    )
    monkeypatch.setenv("LAB_COURSE_DIR", str(course))
    monkeypatch.setenv("LAB_CHECKS_DIR", str(checks))
    lab = Catalog(course).get("hello")
    result = runner.run(lab, Workspace(lab.path, "starter"), state=Path(os.environ["LAB_HOME"]))
    verdicts = {c.id: (c.status, c.message) for c in result.checks}
    assert verdicts["logs_json"] == ("pass", ""), verdicts
    assert verdicts["stops_on_term"] == ("pass", ""), verdicts
    assert result.error is None, "a service stopped by a check's signal did not crash"

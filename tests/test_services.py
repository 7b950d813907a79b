"""The services layer: embedded servers (start, reuse, recovery), external URLs, the
docker provider's spec, per-run databases and Redis namespaces."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import redis

from checker.errors import ServiceUnavailable
from checker.services import docker as docker_mod
from checker.services.databases import (
    create_run_database,
    drop_database,
    drop_stale_runs,
    ensure_template,
)
from checker.services.embedded import EmbeddedPostgres, EmbeddedRedis
from checker.services.external import ExternalPostgres, ExternalRedis
from checker.services.redis_lease import LEASE_KEY, RedisLease, with_db

from .conftest import gone_within

EXTERNAL = bool(os.environ.get("LAB_DATABASE_URL"))


@pytest.fixture(scope="module")
def pg_state(tmp_path_factory):
    """A private embedded PostgreSQL for these tests (stopped at the end)."""
    state = tmp_path_factory.mktemp("pg-state")
    server = EmbeddedPostgres(state)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def redis_state(tmp_path_factory):
    state = tmp_path_factory.mktemp("redis-state")
    server = EmbeddedRedis(state)
    yield server
    server.stop()


def _postmaster_pid(server: EmbeddedPostgres) -> int:
    return int((server.data / "postmaster.pid").read_text().splitlines()[0])


def test_embedded_postgres_starts_with_pg_stat_statements_and_is_reused(pg_state):
    url = pg_state.ensure()
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    assert port not in (5432, 5433), "the embedded server must not take a standard port"
    with psycopg.connect(url) as conn:
        assert conn.execute("SHOW server_version_num").fetchone()[0].startswith("18")
        libs = conn.execute("SHOW shared_preload_libraries").fetchone()[0]
        assert "pg_stat_statements" in libs
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        data_dir = conn.execute("SHOW data_directory").fetchone()[0]
    assert Path(data_dir).resolve() == pg_state.data.resolve()
    pid = _postmaster_pid(pg_state)
    assert pg_state.ensure() == url, "a running server is reused, not restarted"
    assert _postmaster_pid(pg_state) == pid
    status = pg_state.status()
    assert status.running and status.version.startswith("18")


def test_embedded_postgres_recovers_from_a_killed_server(pg_state):
    url = pg_state.ensure()
    os.kill(_postmaster_pid(pg_state), signal.SIGKILL)
    time.sleep(0.2)
    assert pg_state.status().running is False
    url2 = pg_state.ensure()
    with psycopg.connect(url2) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert re.match(r"postgresql://postgres:[0-9a-f]{32}@127\.0\.0\.1:", url2)  # its password
    del url


def test_embedded_postgres_recovers_from_a_stale_pid_file_and_a_taken_port(pg_state):
    pg_state.ensure()
    pg_state.stop()
    # A stale pid file naming a dead process, and our last port taken by someone else.
    last_port = json.loads(pg_state.meta.read_text())["port"]
    (pg_state.data / "postmaster.pid").write_text(
        f"999999\n{pg_state.data}\n0\n{last_port}\n\n127.0.0.1\n  0  0\nready\n"
    )
    squatter = socket.socket()
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    squatter.bind(("127.0.0.1", last_port))
    squatter.listen()
    try:
        url = pg_state.ensure()
        assert f":{last_port}/" not in url, "a taken port must not be reused"
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        squatter.close()


def test_two_processes_starting_at_once_share_one_server(tmp_path):
    code = (
        "import sys; from pathlib import Path; "
        "from checker.services.embedded import EmbeddedPostgres; "
        "print(EmbeddedPostgres(Path(sys.argv[1])).ensure())"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    try:
        assert all(p.returncode == 0 for p in procs), outs
        urls = {o[0].strip() for o in outs}
        assert len(urls) == 1, f"both processes must get the same server, got {urls}"
    finally:
        EmbeddedPostgres(tmp_path).stop()


def test_embedded_redis_starts_is_ours_and_recovers(redis_state):
    url = redis_state.ensure()
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    assert port != 6379
    with redis.Redis.from_url(url) as client:
        assert client.ping()
        assert Path(client.config_get("dir")["dir"]).resolve() == redis_state.home.resolve()
    pid = int(redis_state.pidfile.read_text())
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    url2 = redis_state.ensure()
    with redis.Redis.from_url(url2) as client:
        assert client.ping()


def test_embedded_redis_stop_really_stops(tmp_path):
    server = EmbeddedRedis(tmp_path)
    server.ensure()
    pid = int(server.pidfile.read_text())
    assert server.stop() is True
    assert gone_within(pid), "redis-server still runs after stop()"
    assert server.status().running is False


def test_external_postgres_unreachable_is_a_clear_error():
    with pytest.raises(ServiceUnavailable) as info:
        ExternalPostgres("postgresql://postgres:secret@127.0.0.1:1/postgres").ensure()
    assert "LAB_DATABASE_URL" in info.value.message
    assert "secret" not in info.value.message, "passwords are never printed"
    assert "***" in info.value.message


def test_external_redis_unreachable_is_a_clear_error():
    with pytest.raises(ServiceUnavailable) as info:
        ExternalRedis("redis://127.0.0.1:1/0").ensure()
    assert "LAB_REDIS_URL" in info.value.message


@pytest.mark.skipif(
    not EXTERNAL, reason="external servers are exercised when LAB_DATABASE_URL is set"
)
def test_external_servers_answer():
    assert ExternalPostgres(os.environ["LAB_DATABASE_URL"]).status().running
    assert ExternalRedis(os.environ["LAB_REDIS_URL"]).status().running


def test_docker_provider_spec_and_fast_failure_without_an_engine(monkeypatch):
    pg, rd = docker_mod.DockerPostgres().spec(), docker_mod.DockerRedis().spec()
    assert pg["image"].startswith("postgres:18")
    assert "shared_preload_libraries=pg_stat_statements" in pg["command"]
    assert pg["env"]["POSTGRES_HOST_AUTH_METHOD"] == "trust"
    assert rd["image"].startswith("redis:")
    # This machine has no Docker engine; point the client at a socket that is not there.
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    t0 = time.monotonic()
    with pytest.raises(ServiceUnavailable) as info:
        docker_mod.DockerPostgres().ensure()
    assert time.monotonic() - t0 < 15
    assert "Docker" in info.value.message


def test_run_databases_are_cloned_from_a_template_and_dropped(pg_state):
    admin = pg_state.ensure()
    tpl = ensure_template(admin, "lab_tpl_test_abc", ["CREATE TABLE seeded (x int)",
                                                       "INSERT INTO seeded VALUES (1), (2)"])  # fmt: skip
    assert ensure_template(admin, "lab_tpl_test_abc", ["this SQL is not run again"]) == tpl
    name_a, url_a = create_run_database(admin, tpl, "test")
    name_b, url_b = create_run_database(admin, tpl, "test")
    assert name_a != name_b
    with psycopg.connect(url_a, autocommit=True) as a:
        assert a.execute("SELECT count(*) FROM seeded").fetchone() == (2,)
        a.execute("INSERT INTO seeded VALUES (3)")
    with psycopg.connect(url_b) as b:
        assert b.execute("SELECT count(*) FROM seeded").fetchone() == (2,), "runs are isolated"
    drop_database(admin, name_a)
    drop_database(admin, name_b)
    with psycopg.connect(admin) as conn:
        left = conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname IN (%s, %s)", (name_a, name_b)
        ).fetchone()
    assert left == (0,)


def test_stale_run_databases_are_collected(pg_state):
    admin = pg_state.ensure()
    tpl = ensure_template(admin, "lab_tpl_test_abc", [])
    name, _ = create_run_database(admin, tpl, "old")
    assert name in drop_stale_runs(admin, older_than_s=-1)


def test_redis_lease_isolates_runs_and_never_touches_data(redis_state):
    base = redis_state.ensure()
    with redis.Redis.from_url(with_db(base, 1)) as user_db:
        user_db.set("precious", "user data")  # someone's own data in db 1
    a, b = RedisLease(base), RedisLease(base)
    url_a, url_b = a.acquire(), b.acquire()
    assert url_a != url_b and not url_a.endswith("/1") and not url_b.endswith("/1")
    with redis.Redis.from_url(url_a) as ra:
        ra.set("k", "v")
    a.release()
    b.release()
    with redis.Redis.from_url(url_a) as ra:
        assert ra.dbsize() == 0, "a released db is flushed"
    with redis.Redis.from_url(with_db(base, 1)) as user_db:
        assert user_db.get("precious") == b"user data"
        assert user_db.get(LEASE_KEY) is None

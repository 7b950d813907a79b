"""The Redis fault proxy: a real proxy process in front of the test session's Redis."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import redis

from checker.observe.redis import RedisLink, keyspace, new_keys
from checker.services import providers
from checker.services.redis_lease import RedisLease
from checker.sidecars.redis_proxy import launch, target_of, through

from .conftest import gone_within


@pytest.fixture
def run_redis():
    lease = RedisLease(providers(Path(os.environ["LAB_HOME"])).redis.ensure())
    try:
        yield lease.acquire()
    finally:
        lease.release()


@pytest.fixture
def proxied(run_redis, tmp_path):
    launched = launch(run_redis, run_dir=tmp_path, env=dict(os.environ))
    try:
        yield launched.urls()
    finally:
        launched.stop()
    assert gone_within(launched.helper.pid)


def client(url: str, timeout: float = 1.0) -> redis.Redis:
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                retry=Retry(NoBackoff(), 0))  # fmt: skip


def test_urls_keep_credentials_and_database():
    assert target_of("redis://:pw@10.0.0.1:6380/3") == "10.0.0.1:6380"
    assert target_of("unix:///tmp/r.sock?db=2") == "/tmp/r.sock"
    assert through("redis://:pw@10.0.0.1:6380/3", 5000) == "redis://:pw@127.0.0.1:5000/3"
    assert through("unix:///tmp/r.sock?db=2", 5000) == "redis://127.0.0.1:5000/2"


def test_cut_and_restore(proxied, run_redis):
    service_url, control = proxied
    link = RedisLink(control)
    svc, direct = client(service_url), client(run_redis)
    svc.set("k", "v", ex=30)
    assert direct.get("k") == b"v", "the proxy reaches the run's own database"
    assert keyspace(direct)["k"].expires and keyspace(direct)["k"].type == "string"
    with link.outage():
        with pytest.raises(redis.ConnectionError):
            svc.get("k")
        assert direct.get("k") == b"v", "the checks still see Redis during an outage"
        assert link.status()["state"] == "refuse"
    assert svc.get("k") == b"v", "the client reconnects once the link is back"
    link.cut("hang")
    with pytest.raises(redis.TimeoutError):
        client(service_url, timeout=0.3).get("k")
    link.restore()
    before = keyspace(direct)
    svc.set("new", "1")
    assert list(new_keys(direct, before)) == ["new"]
    assert not keyspace(direct)["new"].expires


def test_unreachable_link_leaves_connect_waiting_until_restored(proxied):
    """Unreachable: no connection is accepted, so only a connect timeout ends the wait
    (the socket timeout alone never fires); a pooled connection is cut; after restore
    the same client connects again."""
    import socket
    import time

    service_url, control = proxied
    link = RedisLink(control)
    svc = client(service_url, timeout=5)
    svc.set("k", "v", ex=30)
    port = int(service_url.rsplit(":", 1)[1].split("/")[0])
    link.cut("unreachable")
    assert link.status()["state"] == "unreachable"
    for _ in range(3):  # every new connection: its SYN finds the accept queue full
        t0 = time.monotonic()
        with pytest.raises(TimeoutError):
            socket.create_connection(("127.0.0.1", port), timeout=0.4)
        assert time.monotonic() - t0 >= 0.35, "connect() waited for its own timeout"
    fast = redis.Redis.from_url(service_url, socket_timeout=5, socket_connect_timeout=0.3)
    t0 = time.monotonic()
    with pytest.raises(redis.TimeoutError):
        fast.get("k")
    assert time.monotonic() - t0 < 3, "the connect timeout, not the socket timeout, ended it"
    link.restore()
    assert svc.get("k") == b"v", "the client connects again once the link is back"


def test_delay_slows_every_round_trip_until_restored(proxied):
    import time

    service_url, control = proxied
    link = RedisLink(control)
    svc = client(service_url, timeout=5)
    svc.ping()
    link.delay(300)
    t0 = time.monotonic()
    svc.ping()
    svc.ping()
    assert time.monotonic() - t0 >= 0.6, "two round trips, 300 ms each"
    assert link.status()["delay_ms"] == 300
    link.restore()
    t0 = time.monotonic()
    svc.ping()
    assert time.monotonic() - t0 < 0.3 and link.status()["delay_ms"] == 0


def test_the_commands_the_service_sent_are_recorded(proxied):
    service_url, control = proxied
    link = RedisLink(control)
    svc = client(service_url)
    svc.ping()
    with link.recording() as commands:
        svc.get("rl:a")
        svc.set("rl:a", "1" * 500)
        with svc.pipeline() as pipe:
            pipe.incr("rl:b").expire("rl:b", 5).execute()
    sent = [c for c in commands if c[0].upper() not in ("CLIENT", "HELLO", "SELECT")]
    assert [c[:2] for c in sent] == [
        ["GET", "rl:a"], ["SET", "rl:a"], ["MULTI"], ["INCRBY", "rl:b"], ["EXPIRE", "rl:b"],
        ["EXEC"],
    ], sent  # fmt: skip
    assert len(sent[1][2]) == 100, "long arguments are cut"
    svc.get("after")
    assert link.status()["recording"] is False

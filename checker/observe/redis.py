"""Redis from the checks' side: the run's key space, command counters, and outages.

Everything here reads the run's own logical database (``LAB_RUN_REDIS_URL``), which
no other run touches, or counts per client connection; server-wide numbers (``INFO
stats`` hits and misses) are shared with every concurrent run on the same server, so
they are only ever used as a delta and never to judge a verdict alone.

``keyspace(r)``            every key of the run's db: ``{key: Key(type, ttl)}``
``new_keys(r, before)``    keys that appeared since a ``keyspace`` snapshot
``server_stats(r)``        keyspace hits and misses (server-wide: deltas only)
``RedisLink``              the ``redis_link`` fixture: cut and restore the service's
                           link to Redis (``checker.faults``)
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

#: What ``TTL`` answers for a key with no expiry, and for a missing key.
NO_EXPIRY, MISSING = -1, -2


@dataclass(frozen=True)
class Key:
    name: str
    type: str
    ttl: int  # seconds; NO_EXPIRY (-1) if the key never expires

    @property
    def expires(self) -> bool:
        return self.ttl >= 0


def keyspace(r: Any, pattern: str = "*", *, ignore: tuple[str, ...] = ("backend-lab:",
             "rq:")) -> dict[str, Key]:  # fmt: skip
    """Every key of the run's database with its type and TTL (ours and rq's left out)."""
    out: dict[str, Key] = {}
    for raw in r.scan_iter(match=pattern, count=500):
        name = raw.decode() if isinstance(raw, bytes) else raw
        if name.startswith(ignore):
            continue
        with r.pipeline() as p:
            p.type(name)
            p.ttl(name)
            kind, ttl = p.execute()
        if ttl == MISSING:
            continue  # expired meanwhile
        kind = kind.decode() if isinstance(kind, bytes) else kind
        out[name] = Key(name, kind, int(ttl))
    return out


def new_keys(r: Any, before: dict[str, Key]) -> dict[str, Key]:
    return {k: v for k, v in keyspace(r).items() if k not in before}


def server_stats(r: Any) -> dict[str, int]:
    """``keyspace_hits`` and ``keyspace_misses`` from ``INFO stats``. Server-wide: every
    run on the same server adds to them, so use only deltas, as a measurement."""
    info = r.info("stats")
    return {k: int(info.get(k, 0)) for k in ("keyspace_hits", "keyspace_misses")}


class RedisLink:
    """The service's link to Redis, through the run's fault proxy
    (``checker.sidecars.redis_proxy``): cut it, slow it down, record what crosses it."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def status(self) -> dict[str, Any]:
        return httpx.get(self.url + "/status", timeout=5).json()

    def cut(self, mode: str = "refuse") -> None:
        """Redis is gone for the service: ``refuse`` closes every connection (a stopped
        server), ``hang`` accepts and never answers (a frozen one), ``unreachable``
        never accepts: a new connection waits in ``connect()`` (a host off the network,
        a firewall dropping packets), so only a connect timeout gets the service out."""
        httpx.post(self.url + "/down", json={"mode": mode}, timeout=5).raise_for_status()

    def restore(self) -> None:
        """The link back up, with no delay."""
        httpx.post(self.url + "/up", timeout=5).raise_for_status()
        httpx.post(self.url + "/delay", json={"ms": 0}, timeout=5).raise_for_status()

    def delay(self, ms: float) -> None:
        """Hold every chunk the service sends ``ms`` milliseconds (0: no delay)."""
        httpx.post(self.url + "/delay", json={"ms": ms}, timeout=5).raise_for_status()

    @contextlib.contextmanager
    def recording(self) -> Iterator[list[list[str]]]:
        """``with link.recording() as commands: ...`` fills ``commands`` with the commands
        the service sent meanwhile (``["INCR", "rl:key"]``...), to explain a verdict."""
        got: list[list[str]] = []
        httpx.post(self.url + "/record", json={"on": True}, timeout=5).raise_for_status()
        try:
            yield got
        finally:
            got.extend(c["args"] for c in httpx.get(self.url + "/commands", timeout=5).json())
            httpx.post(self.url + "/record", json={"on": False}, timeout=5)

    @contextlib.contextmanager
    def outage(self, mode: str = "refuse") -> Iterator[RedisLink]:
        self.cut(mode)
        try:
            yield self
        finally:
            self.restore()


def wait_until(predicate, timeout: float = 5.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())

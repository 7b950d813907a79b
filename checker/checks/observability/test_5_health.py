"""Liveness and readiness while Redis is down (Kubernetes probes)."""

from __future__ import annotations

import time

import httpx
from _helpers import said

from checker.verdict import fail

DEADLINE_S = 2.0


_clients: dict[str, httpx.Client] = {}


def _probe(base_url: str, path: str) -> tuple[int | None, float]:
    """One probe, as an orchestrator sends it: a new connection, a deadline."""
    client = _clients.get(base_url)
    if client is None:
        limits = httpx.Limits(max_keepalive_connections=0)
        client = _clients[base_url] = httpx.Client(base_url=base_url, timeout=DEADLINE_S + 3,
                                                   limits=limits)  # fmt: skip
    t0 = time.monotonic()
    try:
        status = client.get(path).status_code
    except httpx.HTTPError:
        status = None
    return status, time.monotonic() - t0


def _steady(base_url: str, expected: int, n: int = 2) -> list[int | None]:
    """n probes in a row: a probe's answer says the state, not the count of calls."""
    return [_probe(base_url, "/health/ready")[0] for _ in range(n)]


def test_readiness_reflects_redis(base_url, http, redis_link):
    for path in ("/health/live", "/health/ready", "/health/ready"):
        r = http.get(path)
        if r.status_code != 200:
            fail("not-ready", f"GET {path} answered {said(r)} with Redis up; expected 200.")
    for mode, how in (("refuse", "refuses connections"), ("hang", "accepts and never answers")):
        redis_link.cut(mode)
        try:
            cut_at = time.monotonic()
            status, took = None, 0.0
            while time.monotonic() - cut_at < DEADLINE_S:
                status, took = _probe(base_url, "/health/ready")
                if status == 503 or took > DEADLINE_S:
                    break
                time.sleep(0.05)
            after = time.monotonic() - cut_at
            if took > DEADLINE_S:
                fail("ready-too-slow", f"With Redis that {how}, GET /health/ready took {took:.1f} s "
                     f"to answer; expected 503 within {DEADLINE_S:g} s.")  # fmt: skip
            if status != 503 or after > DEADLINE_S + 0.5:
                fail("always-ready", f"With Redis that {how}, GET /health/ready still answered "
                     f"{status} after {after:.1f} s; expected 503 within {DEADLINE_S:g} s.")  # fmt: skip
            # It stays 503 (a frozen Redis makes each probe wait its timeout: one is enough).
            again = _steady(base_url, 503, 2 if mode == "refuse" else 1)
            if any(status != 503 for status in again):
                fail("always-ready", f"With Redis that {how}, GET /health/ready answered 503, "
                     f"then {again}; expected 503 every time until Redis is back.")  # fmt: skip
            live, took = _probe(base_url, "/health/live")
            if live != 200 or took > DEADLINE_S:
                fail("liveness-failed", f"With Redis that {how}, GET /health/live answered {live} "
                     f"in {took:.1f} s; expected 200 at once: the process itself is fine.")  # fmt: skip
        finally:
            redis_link.restore()
        back_at = time.monotonic()
        status = None
        while time.monotonic() - back_at < 5:
            status, _ = _probe(base_url, "/health/ready")
            if status == 200:
                break
            time.sleep(0.1)
        again = _steady(base_url, 200) if status == 200 else []
        if status != 200 or any(status != 200 for status in again):
            fail("stays-unready", f"Redis was back for 5 s (after it {how}), yet GET /health/ready "
                 f"answered {[status, *again]}; expected 200 again, every time.")  # fmt: skip

"""Is the cache used, and does it expire?"""

from __future__ import annotations

import time

from _helpers import READS, cache_keys, clear_cache, count_statements, timed_get

from checker.verdict import fail

TTL_MIN_MS, TTL_MAX_MS = 1_000, 600_000


def _round(http, db, redis) -> tuple[float, float]:
    """The fastest miss and the fastest hit of GET /stats (asserting hits run no SQL)."""

    def miss():
        clear_cache(redis)
        return timed_get(http, "/stats")

    misses, hits, miss_statements = [], [], 0
    for _ in range(3):
        miss_statements, (r, took) = count_statements(db, miss)
        assert r.status_code == 200, f"GET /stats answered {r.status_code}; expected 200"
        misses.append(took)
    computed = r.json()
    for _ in range(10):
        ran, (r, took) = count_statements(db, lambda: timed_get(http, "/stats"))
        assert r.status_code == 200, f"GET /stats answered {r.status_code}; expected 200"
        assert r.json() == computed, "a repeated GET /stats answered differently from the first"
        assert ran == 0, (
            f"expected a repeated GET /stats to be answered from the cache, with no SQL; "
            f"it ran {ran} statement(s), as many as a miss"
            if ran == miss_statements
            else f"expected a repeated GET /stats to run no SQL; it ran {ran} statement(s)"
        )
        hits.append(took)
    # The fastest of each: a busy machine only ever adds time, to either.
    return min(misses), min(hits)


def test_repeated_read_is_cached(http, db, redis, measure):
    # Up to three rounds: noise only ever slows a request down, so one round that shows
    # the speed-up is proof; a service without a cache never shows it (nor passes the
    # no-SQL rule above).
    for _ in range(3):
        miss, hit = _round(http, db, redis)
        ratio = miss / hit
        if ratio >= 10:
            break
    measure("miss_ms", round(miss * 1000, 2))
    measure("hit_ms", round(hit * 1000, 2))
    measure("speedup", round(ratio, 1))
    assert ratio >= 10, (
        f"expected a cached GET /stats at least 10x faster than a miss; the fastest miss "
        f"took {miss * 1000:.1f} ms and the fastest hit {hit * 1000:.1f} ms ({ratio:.1f}x)"
    )


def _describe(name: str, pttl: int) -> str:
    if pttl < 0:
        return f"'{name}' never expires"
    if pttl < TTL_MIN_MS:
        return f"'{name}' expires after less than a second"
    return f"'{name}' expires in {pttl / 1000:.0f} s"


def _listed(bad: list[str], total: int) -> str:
    return f"{len(bad)} of {total} do not: " + ", ".join(bad[:4]) + (" ..." if len(bad) > 4 else "")


def test_cache_entries_expire(http, redis, measure):
    clear_cache(redis)
    started = time.monotonic()
    for path, headers in READS:
        r = http.get(path, headers=headers)
        assert r.status_code == 200, f"GET {path} answered {r.status_code}; expected 200"
    # Every key the service stored, whatever its name: a prefix never hides one.
    keys = cache_keys(redis)
    if not keys:
        fail(
            "nothing-cached",
            "after reading " + ", ".join(p for p, _ in READS) + ", Redis holds no cache entry: "
            "nothing was cached",
        )
    ttls = {name: redis.pttl(name) for name in keys}
    # A key set during the reads had at most this long to count down: a TTL of at least
    # a second shows at least a second minus it.
    waited_ms = (time.monotonic() - started) * 1000
    measure("entries", len(ttls))
    forever = [_describe(n, t) for n, t in sorted(ttls.items()) if t < 0 or t > TTL_MAX_MS]
    if forever:
        fail(
            "no-expiry",
            "expected every cache entry to expire within 10 minutes; "
            + _listed(forever, len(ttls)),
        )
    brief = [_describe(n, t) for n, t in sorted(ttls.items()) if 0 <= t < TTL_MIN_MS - waited_ms]
    if brief:
        fail(
            "ttl-too-short",
            "expected every cache entry to live at least 1 second (shorter, and the cache "
            "barely ever answers); " + _listed(brief, len(ttls)),
        )

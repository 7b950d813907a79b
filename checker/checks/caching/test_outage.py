"""What happens when Redis goes away, and when many readers arrive at once?"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from _helpers import (
    BOOKS_DURING_OUTAGE,
    READS,
    clear_cache,
    count_statements,
    expire_entry,
    timed_get,
)

from checker.verdict import fail

#: A generous safety net: a fallback answers in about the time of a miss.
OUTAGE_MAX_S = 2.0


def _outage_reads(http, expected: dict, how: str) -> float:
    slowest = 0.0
    for path, headers in READS:
        try:
            r, took = timed_get(http, path, headers)
        except httpx.TimeoutException:
            fail(
                "outage-slow",
                f"with Redis {how}, GET {path} did not answer within 5 s: it waits for Redis "
                "instead of falling back to the database",
            )
        slowest = max(slowest, took)
        if r.status_code != 200:
            fail(
                "outage-error",
                f"with Redis {how}, GET {path} answered {r.status_code}; expected 200, "
                "answered from the database",
            )
        if r.json() != expected[path]:
            fail(
                "outage-wrong-answer",
                f"with Redis {how}, GET {path} answered differently from before the outage",
            )
        if took > OUTAGE_MAX_S:
            fail(
                "outage-slow",
                f"with Redis {how}, GET {path} answered correctly but took {took:.1f} s: each "
                "request waits for Redis before falling back to the database"
                + (
                    " (it was waiting to connect: only a connect timeout ends that wait)"
                    if "never accepted" in how
                    else ""
                ),
            )
    return slowest


def test_survives_redis_outage(http, redis, redis_link, measure, rng):
    expected = {}
    for path, headers in READS:
        clear_cache(redis)  # computed, not another check's entry: the right answer
        r = http.get(path, headers=headers)
        assert r.status_code == 200, f"GET {path} answered {r.status_code}; expected 200"
        expected[path] = r.json()
    for path, headers in READS:  # and cached, if the service caches
        http.get(path, headers=headers)
    # Every way a Redis goes away: stopped (connections refused), frozen (accepted, never
    # answered) and unreachable (never accepted: only a connect timeout ends the wait);
    # reads and writes during each.
    for mode, how in (("refuse", "stopped"), ("hang", "frozen (accepting, never answering)"),
                      ("unreachable", "unreachable (connections never accepted)")):  # fmt: skip
        book_id = rng.choice(BOOKS_DURING_OUTAGE)
        path = f"/books/{book_id}"
        with redis_link.outage(mode):
            slowest = _outage_reads(http, expected, how)
            title = f"Outage edition {rng.randint(100, 999)}"
            t0 = time.perf_counter()
            r = http.patch(path, json={"title": title})
            took = time.perf_counter() - t0
            if r.status_code != 200:
                fail(
                    "outage-write-error",
                    f"with Redis {how}, PATCH {path} answered {r.status_code}; expected 200: "
                    "the database can take the change without the cache",
                )
            if took > OUTAGE_MAX_S:
                fail(
                    "outage-slow",
                    f"with Redis {how}, PATCH {path} worked but took {took:.1f} s: it waits "
                    "for Redis",
                )
            r, _ = timed_get(http, path)
            if r.status_code != 200 or r.json().get("title") != title:
                fail(
                    "outage-wrong-answer",
                    f"with Redis {how}, PATCH {path} set the title {title!r}, then GET {path} "
                    f"answered {r.status_code} {r.json().get('title') if r.status_code == 200 else ''!r}",
                )
        measure(f"slowest_{mode}_ms", round(slowest * 1000))
        r = http.get("/stats")
        assert r.status_code == 200, f"after Redis came back, GET /stats answered {r.status_code}"


def test_single_flight(base_url, db, redis, measure):
    with httpx.Client(base_url=base_url, timeout=10) as client:

        def cold(n: int):
            clear_cache(redis)
            with ThreadPoolExecutor(n) as pool:
                return list(pool.map(lambda _: client.get("/stats"), range(n)))

        one, _ = count_statements(db, lambda: cold(1), reading="sale")
        burst, answers = count_statements(db, lambda: cold(30), reading="sale")
    assert all(r.status_code == 200 for r in answers), (
        f"GET /stats answered {sorted({r.status_code for r in answers})} under 30 "
        "concurrent requests; expected 200 for each"
    )
    measure("sales_queries_one_miss", one)
    measure("sales_queries_30_concurrent", burst)
    assert burst <= one, (
        f"30 concurrent GET /stats on a cold cache read the sales {burst} times; computing "
        f"the statistics once reads them {one} time(s)"
    )
    # The entry expires (only it: whatever else the service keeps stays), and 30 more
    # arrive: a lock that was never released, or outlives the computation for long,
    # leaves every one of them waiting on a leader that is gone.
    with httpx.Client(base_url=base_url, timeout=10) as client:
        answer = client.get("/stats").json()

        def expired(n: int):
            if not expire_entry(redis, answer):
                return None
            with ThreadPoolExecutor(n) as pool:
                return list(pool.map(lambda _: client.get("/stats"), range(n)))

        again, answers = count_statements(db, lambda: expired(30), reading="sale")
    if answers is None:
        return  # entries not stored as the page's JSON: the first round is the verdict
    measure("sales_queries_30_after_expiry", again)
    assert all(r.status_code == 200 for r in answers), (
        f"GET /stats answered {sorted({r.status_code for r in answers})} under 30 concurrent "
        "requests after its entry expired; expected 200 for each"
    )
    if again > one:
        fail(
            "lock-not-released",
            f"after /stats's entry expired, 30 concurrent GET /stats read the sales {again} "
            f"times (once is {one}): the first burst's lock was still there, so no request "
            "could lead and each waited, then computed on its own",
        )

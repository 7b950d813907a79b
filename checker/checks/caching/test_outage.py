"""What happens when Redis goes away, and when many readers arrive at once?"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
from _helpers import READS, clear_cache, count_statements, timed_get

#: A generous safety net: a fallback answers in about the time of a miss.
OUTAGE_MAX_S = 2.0


def test_survives_redis_outage(http, redis_link, measure):
    expected = {}
    for path, headers in READS:
        r = http.get(path, headers=headers)
        assert r.status_code == 200, f"GET {path} answered {r.status_code}; expected 200"
        expected[path] = r.json()
    slowest = 0.0
    with redis_link.outage():
        for path, headers in READS:
            r, took = timed_get(http, path, headers)
            slowest = max(slowest, took)
            assert r.status_code == 200, (
                f"with Redis down, GET {path} answered {r.status_code}; expected 200, "
                "answered from the database"
            )
            assert r.json() == expected[path], (
                f"with Redis down, GET {path} answered differently from before the outage"
            )
            assert took <= OUTAGE_MAX_S, (
                f"with Redis down, GET {path} answered correctly but took {took:.1f} s: each "
                "request waits for Redis before falling back to the database"
            )
    measure("slowest_outage_ms", round(slowest * 1000))
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

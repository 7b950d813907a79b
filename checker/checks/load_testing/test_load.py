"""Behaviour under load, judged by ratios measured in this same run (never by one
absolute timing: machines are noisy) or by exact counts from PostgreSQL."""

from __future__ import annotations

import psycopg

from checker.observe.connections import ConnectionWatch
from checker.observe.load import p95_ratio, throughput_ratio

#: At 20 users, at least this many times the requests per second of 1 user. A service
#: that serves one request at a time gets about 1; the reference about 18. Not 6, as it
#: once was: ``asyncio.to_thread`` (a valid fix) overlaps as many waits as asyncio's
#: default thread pool has threads, min(32, cores + 4): 6 on a 2-core machine, which
#: measured 5.7 to 7.4 there, and a verdict must never flip between reruns.
MIN_SCALING = 4.0
#: At 50 users, p95 at most this many times a single user's median response time.
#: The median, not the single-user p95: a 3 s single-user run has about 30 requests,
#: so its p95 is its second-slowest request, and one hiccup of a busy machine triples
#: it. Generous on purpose: a healthy service stays under 3 on a busy machine; one that
#: serves requests one at a time reaches 15 and more. A verdict must never flip.
MAX_P95_GROWTH = 6.0


def too_many_connections(opened: int, requests: int) -> bool:
    """A pool opens its connections once (SQLAlchemy's default pool: 5, and up to 10
    more at busy moments, closed again afterwards); a service that connects per request
    opens one for every request. Either is clear: more than a pool's worth, and more
    than one for every two requests."""
    return opened > 15 and opened > requests / 2


def _failures(run) -> str:
    bad = [e for e in run.endpoints if e.failures]
    return ", ".join(f"{e.method} {e.name}: {e.failures} of {e.requests}" for e in bad)


def test_connections_pooled(load, admin_url, db_name, db: psycopg.Connection, measure):
    with ConnectionWatch(admin_url, db_name, exclude_pids=[db.info.backend_pid]) as watch:
        run = load.run("db")
    requests = run.total.requests
    measure("requests", requests)
    measure("connections_opened", watch.opened)
    measure("connections_peak", watch.peak)
    assert requests >= 20, (
        f"With 5 users for 3 s, the service answered only {requests} requests to book "
        "pages and orders, too few to judge its connections. Is it stuck?"
    )
    per_100 = 100 * watch.opened / requests
    assert not too_many_connections(watch.opened, requests), (
        f"During the load ({requests} requests that read or write the database), your "
        f"service opened {watch.opened} new PostgreSQL connections: {per_100:.0f} for every "
        "100 requests. Expected a pool: a few connections (at most 15) opened once and "
        f"reused. At most {watch.peak} were open at once."
    )


def test_throughput_scales(load, measure):
    one, twenty = load.run("one"), load.run("twenty")
    ratio = throughput_ratio(one, twenty)
    measure("rps_1_user", round(one.total.rps, 1))
    measure("rps_20_users", round(twenty.total.rps, 1))
    measure("ratio", round(ratio, 2))
    measure("p95_ms_20_users", twenty.total.p95)
    assert one.total.requests >= 5, (
        f"One user got only {one.total.requests} answers in 3 s: the service is too slow "
        "to measure (each request took more than half a second)."
    )
    assert ratio >= MIN_SCALING, (
        f"1 user got {one.total.rps:.1f} requests/s; 20 users got {twenty.total.rps:.1f} "
        f"requests/s: {ratio:.1f} times as many. Expected at least {MIN_SCALING:.0f} times: "
        "the requests mostly wait on the warehouse, and waiting requests should overlap."
    )


def test_stable_under_load(load, measure):
    one, fifty = load.run("one"), load.run("fifty")
    growth = p95_ratio(fifty, one, baseline_q=0.5)
    measure("p50_ms_1_user", one.total.p50)
    measure("p95_ms_1_user", one.total.p95)
    measure("p95_ms_50_users", fifty.total.p95)
    measure("p95_growth", round(growth, 2))
    measure("requests_50_users", fifty.total.requests)
    measure("failures_50_users", fifty.total.failures)
    assert fifty.total.requests >= 10, (
        f"50 users got only {fifty.total.requests} answers in 4 s; expected far more."
    )
    assert fifty.total.failures == 0, (
        f"With 50 users, {fifty.total.failures} of {fifty.total.requests} requests failed "
        f"({_failures(fifty)}); expected none."
    )
    assert growth <= MAX_P95_GROWTH, (
        f"A single user's requests took {one.total.p50} ms (median); with 50 users, p95 was "
        f"{fifty.total.p95} ms: {growth:.1f} times longer. Expected at most "
        f"{MAX_P95_GROWTH:.0f} times: 50 people pausing between pages should barely slow "
        "each other down."
    )

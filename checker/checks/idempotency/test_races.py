"""Concurrent duplicates, expiry, and retries after a provider timeout."""

import threading
import time

import httpx
from _helpers import (
    body_of,
    calls,
    charges,
    drawn_payment,
    fail,
    first_payment,
    new_key,
    pay,
    payment,
    said,
)

from checker.observe.redis import keyspace
from checker.services.redis_lease import LEASE_KEY

N = 10


def _fire_together(base_url, body, key, provider):
    """N identical requests, each on its own connection, released at the same instant.

    The provider holds every charge until each request has either reached it or been
    answered (or nothing moved for a second), so an implementation that lets duplicates
    through is caught every time, however the threads happen to be scheduled."""
    barrier = threading.Barrier(N)
    results: list = [None] * N
    # One client, N connections: no keep-alive, so each request opens its own.
    limits = httpx.Limits(max_connections=N, max_keepalive_connections=0)
    client = httpx.Client(base_url=base_url, timeout=20, limits=limits)

    def one(i: int) -> None:
        barrier.wait()
        try:
            results[i] = pay(client, body, key)
        except httpx.HTTPError as exc:
            results[i] = exc

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(N)]
    provider.slow_next(N, delay=15)
    for t in threads:
        t.start()
    deadline = time.monotonic() + 6
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        seen = len(calls(provider, body["order_id"])) + sum(r is not None for r in results)
        if seen >= N:
            break
        if seen != last:
            last, since = seen, time.monotonic()
        elif seen > 0 and time.monotonic() - since > 1.0:
            break  # some requests wait on something else (a lock): let the charge finish
        time.sleep(0.02)
    provider.recover()
    for t in threads:
        t.join(20)
    client.close()
    return results


def test_concurrent_duplicates_charge_once(base_url, sinks):
    provider = sinks["payments"]
    body, key = payment(), new_key()
    results = _fire_together(base_url, body, key, provider)
    n = len(charges(provider, body["order_id"]))
    assert n == 1, (
        f"{N} identical POST /payments sent at the same moment with one Idempotency-Key "
        f"charged the provider {n} times; expected exactly once. Every request looked "
        "for the key before the first one had finished: a double-click, or a client "
        "retrying too soon, charges the customer again."
    )
    broken = [r for r in results if not isinstance(r, httpx.Response)]
    if broken:
        fail(
            f"{len(broken)} of {N} concurrent duplicate requests got no answer "
            f"({type(broken[0]).__name__}); expected 409 Conflict or the first answer."
        )
    statuses = sorted(r.status_code for r in results)
    odd = [s for s in statuses if not (200 <= s < 300 or s == 409)]
    assert not odd and any(200 <= s < 300 for s in statuses), (
        f"{N} concurrent duplicate requests answered {statuses}; expected one 201 and, for "
        "the others, 409 Conflict (still in progress) or the same 201 again."
    )


#: The README's "24 hours", with a minute's slack either way for the clocks.
TTL_S = 86_400
SLACK_S = 60


def _stored_keys(redis) -> dict:
    """Every key of the run's Redis database but the run's own lease."""
    return {name: k for name, k in keyspace(redis, ignore=()).items() if name != LEASE_KEY}


def test_keys_expire(http, sinks, redis, db, rng):
    provider = sinks["payments"]
    key = new_key()
    before = _stored_keys(redis)
    first_payment(http, provider, drawn_payment(rng), key)
    # Whatever the payment stored, under any name (not only one that shows the key).
    stored = {name: k for name, k in _stored_keys(redis).items() if name not in before}
    if stored:
        for name in stored:
            ttl = redis.ttl(name)
            if ttl == -1:
                fail(
                    f"A payment stored the Redis key {name!r} with no expiry: it is kept "
                    "forever, and Redis only grows. The README promises 24 hours."
                )
            if not TTL_S - SLACK_S <= ttl <= TTL_S + SLACK_S:
                fail(
                    f"A payment stored the Redis key {name!r} for {ttl} seconds; expected "
                    "the documented 24 hours (86400 s), long enough for any client's retries."
                )
        return
    left = _expiry_in_postgres(db, key)
    if left is None:
        fail(
            "The payment's Idempotency-Key was found neither in Redis nor in a PostgreSQL "
            "row with an expires_at column; expected it stored with its expiry."
        )
    assert TTL_S - SLACK_S <= left <= TTL_S + SLACK_S, (
        f"The Idempotency-Key's row expires in {left:.0f} seconds; expected the documented "
        "24 hours (86400 s)."
    )


def _expiry_in_postgres(db, key):
    """Seconds until the stored key's expires_at, or None if no such row exists."""
    with db.cursor() as cur:
        cur.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public'"
        )
        tables: dict[str, dict[str, str]] = {}
        for table, column, kind in cur.fetchall():
            tables.setdefault(table, {})[column] = kind
        for table, columns in tables.items():
            expiry = next((c for c, k in columns.items() if "expire" in c and "time" in k), None)
            if expiry is None:
                continue
            for column, kind in columns.items():
                if kind not in ("text", "character varying"):
                    continue
                cur.execute(
                    f'SELECT extract(epoch FROM "{expiry}" - now()) FROM "{table}" '
                    f'WHERE "{column}" LIKE %s LIMIT 1',
                    [f"%{key}%"],
                )
                row = cur.fetchone()
                if row is not None and row[0] is not None:
                    return float(row[0])
    return None


def test_provider_timeout_charges_once(http, sinks):
    provider = sinks["payments"]
    body, key = payment(), new_key()
    # The provider charges, then its answer is lost: the service can't know it charged.
    provider.fail_next(1, mode="timeout", delay=0.2, deliver=True)
    first = pay(http, body, key)
    assert not first.is_success, (
        f"POST /payments answered {said(first)} although the provider never confirmed the "
        "charge (it timed out); expected an error the client can retry (502 or 503)."
    )
    again = pay(http, body, key)
    assert again.status_code == 201, (
        f"The client's retry with the same Idempotency-Key, after the provider timed out, "
        f"answered {said(again)} {body_of(again)!r}; expected 201 with the payment. A failed "
        "attempt must not keep the key."
    )
    sent = [c["headers"].get("idempotency-key") for c in calls(provider, body["order_id"])]
    assert len(sent) >= 2 and sent[0] and len(set(sent)) == 1, (
        f"The provider got {len(sent)} charge calls for this payment, with Idempotency-Key "
        f"headers {sent}; expected every attempt to carry the same key of yours. The first "
        "call did charge: without the key, the provider can't tell the retry from a new "
        "charge, and the customer pays twice."
    )

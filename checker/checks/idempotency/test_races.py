"""Concurrent duplicates, expiry (of answers and of claims in progress), and retries
after a failed attempt (a provider timeout or error, a database failure)."""

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from _helpers import (
    body_of,
    calls,
    charges,
    fail,
    first_payment,
    new_key,
    pay,
    payment,
    said,
)
from psycopg import sql

from checker.observe.redis import keyspace
from checker.services.redis_lease import LEASE_KEY
from checker.verdict import expect

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


def test_concurrent_duplicates_charge_once(base_url, sinks, rng):
    provider = sinks["payments"]
    body, key = payment(rng), new_key()
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
    first_payment(http, provider, payment(rng), key)
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


@pytest.mark.check("keys_expire")
def test_keys_expire_while_in_progress(http, sinks, redis, db, rng):
    """A claim taken for a request still in progress expires too: a service that dies
    mid-request (a deploy, a crash) must not leave a key claimed forever."""
    provider = sinks["payments"]
    body, key = payment(rng), new_key()
    before = _stored_keys(redis)
    provider.fail_next(1, mode="hang")
    answer: list = []
    worker = threading.Thread(target=lambda: answer.append(pay(http, body, key)), daemon=True)
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while not calls(provider, body["order_id"]) and time.monotonic() < deadline:
            if not worker.is_alive():  # answered without reaching the provider
                break
            time.sleep(0.02)
        if not calls(provider, body["order_id"]):
            got = f"it answered {said(answer[0])}" if answer else "10 seconds passed"
            fail(
                f"POST /payments never reached the provider ({got}); this check needs a "
                "payment in progress."
            )
        # The provider holds the charge: whatever the service stored so far is a claim.
        stored = {name for name in _stored_keys(redis) if name not in before}
        ttls = {name: redis.ttl(name) for name in stored}
    finally:
        provider.recover()
        worker.join(20)
    forever = [name for name, ttl in ttls.items() if ttl == -1]
    expect(
        not forever,
        "claim-never-expires",
        f"While a payment was still in progress (its charge held at the provider), the "
        f"Redis key {forever[0] if forever else ''!r} had no expiry. If the service dies "
        "before it finishes (a deploy, a crash), that claim stays forever and every retry "
        "of the payment is refused as 'in progress'. Expected the claim to expire too, "
        "after the documented 24 hours at most: set the TTL when claiming, not only when "
        "storing the answer.",
    )
    wrong = {name: ttl for name, ttl in ttls.items() if ttl > TTL_S + SLACK_S}
    expect(
        not wrong,
        "claim-never-expires",
        f"While a payment was in progress, its claim in Redis expires in {wrong} seconds; "
        "expected at most the documented 24 hours (86400 s).",
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


def test_provider_timeout_charges_once(http, sinks, rng):
    provider = sinks["payments"]
    body, key = payment(rng), new_key()
    # The provider charges, then its answer is lost: the service can't know it charged.
    provider.fail_next(1, mode="timeout", delay=0.2, deliver=True)
    first = pay(http, body, key)
    expect(
        first.status_code in GATEWAY,
        "provider-failure-status",
        f"POST /payments answered {said(first)} although the provider never confirmed the "
        "charge (it timed out); expected 502 Bad Gateway (or 503/504): an error that says "
        "the provider failed and the client may retry. A 2xx claims a payment nobody "
        "confirmed, and a 500 says this service has a bug.",
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


#: What a failed provider call may answer: the provider, not this service, failed.
GATEWAY = (502, 503, 504)


@pytest.mark.check("provider_timeout_charges_once")
def test_provider_error_then_retry(http, sinks, rng):
    """A provider that refuses (a 5xx of its own) charged nothing: 502, and the retry
    with the same key goes through and charges once."""
    provider = sinks["payments"]
    body, key = payment(rng), new_key()
    provider.fail_next(1, mode="error", status=rng.choice([500, 502, 503]))
    first = pay(http, body, key)
    expect(
        first.status_code in GATEWAY,
        "provider-failure-status",
        f"The provider answered an error to the charge, and POST /payments answered "
        f"{said(first)}; expected 502 Bad Gateway (or 503/504), which tells the client "
        "to retry with the same key. A 500 says this service has a bug.",
    )
    again = pay(http, body, key)
    n = len(charges(provider, body["order_id"]))
    expect(
        again.status_code == 201 and n == 1,
        "stuck-after-failure",
        f"After the provider refused the first attempt, the client's retry with the same "
        f"Idempotency-Key answered {said(again)}, and the provider charged {n} times; "
        "expected 201 and one charge. A failed attempt must not keep the key.",
    )


def _payments_table(db, order_id: str) -> tuple[str, str]:
    """The table (and its column) where the service recorded the payment of order_id."""
    found = db.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = 'public' AND column_name = 'order_id'"
        " AND data_type IN ('text', 'character varying')"
    ).fetchall()
    for table, column in found:
        query = sql.SQL("SELECT 1 FROM {} WHERE {} = %s LIMIT 1").format(
            sql.Identifier(table), sql.Identifier(column)
        )
        if db.execute(query, [order_id]).fetchone():
            return table, column
    fail(
        f"A payment of order {order_id} answered 201, but no table of the database has it "
        "in an order_id column; expected the payment recorded in PostgreSQL."
    )
    raise AssertionError  # unreachable


@contextmanager
def _inserts_refused(db, table: str, column: str, order_id: str) -> Iterator[None]:
    """The database refuses to store this one order's payment (a constraint, a full disk,
    a failover: whatever the reason, the INSERT fails), and only it."""
    name = f"lab_refuse_{uuid.uuid4().hex[:12]}"
    db.execute(
        sql.SQL(
            "CREATE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'could not write: the disk is full'; END $$"
        ).format(sql.Identifier(name))
    )
    try:
        db.execute(
            sql.SQL(
                "CREATE TRIGGER {} BEFORE INSERT OR UPDATE ON {} FOR EACH ROW"
                " WHEN (NEW.{} = {}) EXECUTE FUNCTION {}()"
            ).format(
                sql.Identifier(name),
                sql.Identifier(table),
                sql.Identifier(column),
                sql.Literal(order_id),
                sql.Identifier(name),
            )  # fmt: skip
        )
        yield
    finally:
        db.execute(sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(
            sql.Identifier(name), sql.Identifier(table)))  # fmt: skip
        db.execute(sql.SQL("DROP FUNCTION IF EXISTS {}()").format(sql.Identifier(name)))


@pytest.mark.check("provider_timeout_charges_once")
def test_database_failure_after_charge(http, sinks, db, rng):
    """The provider charged, then the database failed to record the payment. The client
    retries, as any failure tells it to: the retry must go through (the failed attempt
    keeps no claim on the key), and the provider, which deduplicates by key as the README
    says, must see the same key again, so the customer is charged once."""
    provider = sinks["payments"]
    provider.honour_idempotency_keys()
    known = payment(rng)
    first_payment(http, provider, known, new_key())
    table, column = _payments_table(db, known["order_id"])

    body, key = payment(rng), new_key()
    with _inserts_refused(db, table, column, body["order_id"]):
        failed = pay(http, body, key)
    expect(
        failed.status_code >= 500,
        "db-failure-hidden",
        f"The database refused to record the payment, and POST /payments answered "
        f"{said(failed)}; expected a 5xx: the payment was not recorded, so the client "
        "must retry.",
    )
    again = pay(http, body, key)
    expect(
        again.status_code == 201,
        "stuck-after-failure",
        f"The provider charged, then the database failed to record the payment (the "
        f"first attempt answered {said(failed)}). The client's retry with the same "
        f"Idempotency-Key answered {said(again)} {body_of(again)!r}; expected 201 with the "
        "payment. Whatever makes an attempt fail after its claim, a database error as "
        "well as a provider error, must release the key, or the payment can never be "
        "completed.",
    )
    n = len(charges(provider, body["order_id"]))
    expect(
        n == 1,
        "charged-twice" if n > 1 else "provider-key-reused",
        f"After the database failed and the client retried, the provider charged this "
        f"payment {n} times; expected once. "
        + (
            "The retry reached the provider with another key (or none), so the provider "
            "could not tell it from a new charge: forward one key per payment, the same on "
            "every attempt."
            if n > 1
            else "The provider took this payment for a replay of another one: the key you "
            "forward must differ between payments (derive it from the client and its "
            "Idempotency-Key)."
        ),
    )

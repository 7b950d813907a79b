"""Retries: what is retried, how often, and when."""

import time

import httpx
from _helpers import (
    BACKOFF_BASE_S,
    BOOKS,
    BUDGET_S,
    Background,
    healthy,
    order_calls,
    paid_order,
    quote_calls,
    said,
    shown,
    together,
)

from checker.verdict import fail

#: Scheduling slack on top of the 1 s budget, for a busy machine (as the timeout check's).
SLACK_S = 0.75


def test_transient_failures_retried(http, base_url, sinks, rng):
    shipping, payments = sinks["shipping"], sinks["payments"]
    healthy(http, rng)
    c_book = rng.choice(BOOKS)
    a, c = rng.sample(BOOKS, 2)
    status = rng.choice([502, 503, 504])
    shipping.fail_next(2, status=status)
    # Meanwhile a charge (keyed: safe to repeat) whose first attempt times out.
    payments.fail_next(1, mode="timeout", delay=2.0)
    checkout = Background([lambda c: c.post("/orders", json={"book_id": c_book, "quantity": 1})],
                          base_url)  # fmt: skip
    r = http.get(f"/books/{a}/delivery")
    calls = quote_calls(shipping, a)
    if r.status_code != 200:
        fail(
            "not-retried" if len(calls) < 3 else "too-many-calls",
            f"The shipping provider answered {status} twice, then would have answered; GET "
            f"/books/{a}/delivery made {len(calls)} call(s) and answered {said(r)} {shown(r)}; "
            "expected 200 after exactly 3 calls.",
        )
    if len(calls) != 3:
        fail(
            "too-many-calls",
            f"The shipping provider answered {status} twice, then 200; GET /books/{a}/delivery "
            f"made {len(calls)} calls; expected exactly 3.",
        )
    ((r, _),) = checkout.join()
    charges = payments.calls()
    if not isinstance(r, httpx.Response) or r.status_code != 201 or len(charges) != 2:
        fail(
            "not-retried" if len(charges) < 2 else "too-many-calls",
            "The payment provider did not answer a charge in time, then would have answered; "
            f"POST /orders made {len(charges)} charge call(s) and answered "
            f"{said(r) if isinstance(r, httpx.Response) else type(r).__name__}; expected 201 "
            "after exactly 2 calls: its Idempotency-Key makes a charge safe to repeat.",
        )
    refused = rng.choice([400, 404, 409, 422])
    shipping.fail_next(1, status=refused)
    r = http.get(f"/books/{c}/delivery")
    calls = quote_calls(shipping, c)
    if len(calls) != 1:
        fail(
            "retried-4xx",
            f"The shipping provider refused a quote with {refused}; GET /books/{c}/delivery "
            f"called it {len(calls)} times; expected once: a 4xx fails the same way again.",
        )


def test_unsafe_calls_not_retried(http, base_url, sinks, rng):
    payments, warehouse = sinks["payments"], sinks["warehouse"]
    healthy(http, rng)
    book, other = rng.sample(BOOKS, 2)
    order = paid_order(http, book)
    first_key = order_calls(payments, order["id"])[0]["headers"].get("idempotency-key")
    # Both providers do the work, then their answers are lost: the service can't know.
    warehouse.fail_next(1, mode="timeout", delay=2.0, deliver=True)
    payments.honour_idempotency_keys()
    payments.fail_next(1, mode="timeout", delay=2.0, deliver=True)
    calls = Background(
        [lambda c: c.post(f"/orders/{order['id']}/pick"),
         lambda c: c.post("/orders", json={"book_id": other, "quantity": 1})],
        base_url,
    )  # fmt: skip
    # The providers hold the calls longer than any caller waits. Once both requests are
    # answered, the service gave up on them; a service still waiting past the budget
    # and its slack has no timeout: both get their 504 then, as they would a little later.
    deadline = time.monotonic() + BUDGET_S + SLACK_S
    while len(calls.done) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    warehouse.release()
    payments.release()
    results = calls.join()
    time.sleep(0.1)  # a late retry would show now
    picks = order_calls(warehouse, order["id"])
    if len(picks) != 1:
        r = results[0][0]
        fail(
            "picked-twice",
            f"The warehouse picked order {order['id']}, then timed out before answering; the "
            f"service called it {len(picks)} times (and answered "
            f"{said(r) if isinstance(r, httpx.Response) else type(r).__name__}); expected "
            "exactly once: POST /picks carries no key, and each call is a new pick.",
        )
    r = results[1][0]
    got = r.json() if isinstance(r, httpx.Response) and r.status_code == 201 else None
    charges = (
        order_calls(payments, got["id"]) if got else
        [c for c in payments.calls() if c["n"] > 1]
    )  # fmt: skip
    keys = [c["headers"].get("idempotency-key") for c in charges]
    if not keys or not all(keys):
        fail(
            "no-key",
            f"A checkout's charge calls carried the Idempotency-Key headers {keys}; expected "
            "one on every attempt.",
        )
    if len(set(keys)) != 1:
        fail(
            "new-key-per-attempt",
            f"The payment provider timed out after charging, and the service retried: its "
            f"{len(keys)} attempts carried the Idempotency-Keys {keys}; expected the same key "
            "on every attempt of one charge, or the provider charges again.",
        )
    if keys[0] == first_key:
        fail(
            "new-key-per-attempt",
            f"Two different orders were charged with the same Idempotency-Key {keys[0]!r}: "
            "the provider takes the second for a retry of the first and never charges it.",
        )


N = 40
#: The second retry's wait is drawn below twice the README's base delay: the retries
#: must spread over at least a quarter of that.
CAP_S = 2 * BACKOFF_BASE_S
SPREAD_S = CAP_S / 4


def test_backoff_has_jitter(base_url, http, sinks, rng, measure):
    payments = sinks["payments"]
    healthy(http, rng)
    # The first two charges of each of the 40 checkouts fail; the third would pass.
    payments.fail_next(2 * N, status=503, per_key=2)
    books = [rng.choice(BOOKS) for _ in range(N)]
    results = together(
        [lambda c, b=b: c.post("/orders", json={"book_id": b, "quantity": 1}) for b in books],
        base_url,
        timeout=15,
        waves=4,  # 10 at a time, 50 ms apart: a herd, not a CPU storm that eats the budget
    )
    by_order: dict[str, list] = {}
    for c in payments.calls():
        if isinstance(c["body"], dict):
            by_order.setdefault(str(c["body"].get("order_id")), []).append(c)
    gaps, short = [], 0
    for calls in by_order.values():
        failed = [c for c in calls if c["outcome"] == "error"]
        if len(failed) < 2 or len(calls) < 3:
            short += 1
            continue
        gaps.append(calls[2]["at"] - calls[1]["answered_at"])
    if len(gaps) < N:
        statuses = sorted({r.status_code for r, _ in results if isinstance(r, httpx.Response)})
        fail(
            "not-retried",
            f"{N} checkouts at once, each one's charge answered 503 twice, then would have "
            f"passed: {len(gaps)} of them were charged a third time (the checkouts answered "
            f"{statuses}); expected every charge retried twice, within the 1 s budget: its "
            "Idempotency-Key makes it safe.",
        )
    spread = max(gaps) - min(gaps)
    measure("second_retry_spread_ms", round(spread * 1000))
    measure("second_retry_min_ms", round(min(gaps) * 1000))
    if spread < SPREAD_S:
        fail(
            "no-jitter",
            f"{N} checkouts whose charges failed together retried a second time after "
            f"{min(gaps) * 1000:.0f} to {max(gaps) * 1000:.0f} ms: all within "
            f"{spread * 1000:.0f} ms, a wave. Expected the waits spread over at least "
            f"{SPREAD_S * 1000:.0f} ms (a quarter of the second retry's "
            f"{CAP_S * 1000:.0f} ms backoff): random, so clients that failed together come "
            "back apart.",
        )

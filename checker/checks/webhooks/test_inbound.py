"""Events in: the payment provider's calls to POST /webhooks/payments, signed by the
checker (Standard Webhooks, with PAYMENTS_WEBHOOK_SECRET from lab.toml's [env])."""

from __future__ import annotations

import secrets
import time

import httpx
from _helpers import at_once as post_at_once
from _helpers import (
    charge_event,
    new_merchant,
    new_order,
    order_status,
    post_event,
    quiet_for,
    random_secret,
    settle,
    signed,
    wait_until,
)

from checker.verdict import fail

REFUSED = (400, 401)


def _payments(db, order_id: int) -> int:
    return db.execute("SELECT count(*) FROM payment WHERE order_id = %s", [order_id]).fetchone()[0]


def _charge(order_id: int, rng) -> bytes:
    return charge_event(order_id, rng.randint(500, 9000), f"ch_{secrets.token_hex(6)}")


def test_inbound_signature_required(http, base_url, rng, db):
    merchant = new_merchant(http, rng)
    order = new_order(http, merchant, rng)
    body = _charge(order, rng)
    good = signed(body)
    tampered = body.replace(b'"amount_cents" :', b'"amount_cents" :1', 1)
    other_id = signed(body)
    other_id["webhook-id"] = f"evt_{secrets.token_hex(8)}"
    unsigned = {k: v for k, v in signed(body).items() if k != "webhook-signature"}
    forged = [
        ("a body changed after signing", tampered, signed(body)),
        ("a signature made with another secret", body, signed(body, secret=random_secret())),
        ("another event id's signature", body, other_id),
        ("no webhook-signature header at all", body, unsigned),
    ]
    rng.shuffle(forged)
    for what, data, headers in forged:
        r = post_event(base_url, data, headers)
        if r.status_code not in REFUSED:
            fail("unsigned-accepted" if "no webhook-signature" in what else "forgery-accepted",
                 f"an event with {what} answered {r.status_code}; expected 400 or 401, and "
                 "nothing done")  # fmt: skip
        if order_status(http, merchant, order) != "created" or _payments(db, order):
            fail("order-changed", f"an event with {what} was refused, but order {order} "
                 "changed (paid, or a payment row)")  # fmt: skip
    r = post_event(base_url, body, good)
    if not 200 <= r.status_code < 300:
        fail("valid-refused", f"an event signed with PAYMENTS_WEBHOOK_SECRET answered "
             f"{r.status_code}; expected 2xx")  # fmt: skip
    if order_status(http, merchant, order) != "paid":
        fail("not-processed", f"a correctly signed charge.succeeded for order {order} "
             "answered 2xx, but the order is not paid")  # fmt: skip


def test_inbound_timestamp_window(http, base_url, rng, db):
    merchant = new_merchant(http, rng)
    old, ahead, recent = (new_order(http, merchant, rng) for _ in range(3))
    now = time.time()
    stale = [("6 minutes ago", old, now - 360 - rng.randint(0, 40)),
             ("6 minutes ahead", ahead, now + 360 + rng.randint(0, 40))]  # fmt: skip
    for when, order, at in stale:
        body = _charge(order, rng)
        r = post_event(base_url, body, signed(body, at=at))
        if r.status_code not in REFUSED or order_status(http, merchant, order) != "created":
            fail("replay-accepted", f"a correctly signed event stamped {when} answered "
                 f"{r.status_code} (order {order}: {order_status(http, merchant, order)}); "
                 "expected 400 or 401: a call captured once must not work minutes later")  # fmt: skip
    body = _charge(recent, rng)
    r = post_event(base_url, body, signed(body, at=now - 240 + rng.randint(-15, 15)))
    if not 200 <= r.status_code < 300 or order_status(http, merchant, recent) != "paid":
        fail("recent-refused", f"a correctly signed event stamped about 4 minutes ago "
             f"answered {r.status_code}; expected 2xx and the order paid (the tolerance is "
             "5 minutes)")  # fmt: skip


def test_inbound_processed_once(http, base_urls, rng, db, sinks, locks, measure):
    email = sinks["email"]
    merchant = new_merchant(http, rng)
    first, second = new_order(http, merchant, rng), new_order(http, merchant, rng)
    # The same event three times, one after the other, alternating instances; each time
    # re-signed (a retry), with the same webhook-id.
    body, event_id = _charge(first, rng), f"evt_{secrets.token_hex(8)}"
    answers = []
    for i in range(3):
        answers.append(
            post_event(base_urls[i % len(base_urls)], body, signed(body, msg_id=event_id))
        )
        if i == 0:
            answered = time.time()  # its receipt is on its way
    codes = [r.status_code for r in answers]
    # Then another event five times at once, held by the gate until all are in flight.
    body2, event2 = _charge(second, rng), f"evt_{secrets.token_hex(8)}"
    sends = [(base_urls[i % len(base_urls)], body2, signed(body2, msg_id=event2)) for i in range(5)]
    with locks.gate("LOCK TABLE payment IN SHARE MODE", waiters=5) as gate:
        together = post_at_once(sends, gate.release)
    codes2 = [r.status_code if r is not None else None for r in together]
    measure("sequential_statuses", codes)
    measure("concurrent_statuses", codes2)
    rows = {first: _payments(db, first), second: _payments(db, second)}
    measure("payment_rows", list(rows.values()))
    if rows[first] != 1:
        fail("process-local" if len(base_urls) > 1 and rows[first] > 1 else "processed-twice",
             f"one event sent 3 times, one after the other (to both instances of the "
             f"service), left {rows[first]} payment rows for order {first}; expected 1")  # fmt: skip
    if rows[second] != 1:
        fail("processed-twice", f"one event delivered 5 times at once left {rows[second]} "
             f"payment rows for order {second}; expected 1 (statuses {codes2})")  # fmt: skip
    if any(c is None or not 200 <= c < 300 for c in codes + codes2):
        fail("duplicate-error", f"repeated deliveries of one event answered {codes} (one "
             f"after the other) and {codes2} (at once); expected 2xx every time")  # fmt: skip
    wait_until(lambda: all(email.count(str(o)) for o in (first, second)), timeout=8)
    # A receipt too many is one more email like the first: wait as long again as that
    # one took to come (and a half), and for every email job still in the queues.
    came = [c["at"] for c in email.calls(str(first))]
    settle(email, quiet=quiet_for(max(0.0, min(came) - answered) if came else 0.0), timeout=5)
    sent = {order: email.count(str(order)) for order in (first, second)}
    measure("receipts", list(sent.values()))
    if any(n != 1 for n in sent.values()):
        fail("duplicate-email", f"receipt emails per order: {sent}; expected exactly one each")


def test_inbound_answers_fast(http, base_url, rng, sinks, measure):
    email = sinks["email"]
    merchant = new_merchant(http, rng)
    orders = [new_order(http, merchant, rng) for _ in range(4)]
    usual = []
    for order in orders[:3]:
        body = _charge(order, rng)
        t0 = time.perf_counter()
        r = post_event(base_url, body, signed(body))
        usual.append(time.perf_counter() - t0)
        assert 200 <= r.status_code < 300, f"a signed event answered {r.status_code}; expected 2xx"
    # Their receipts are out before the provider slows down.
    wait_until(lambda: all(email.count(str(o)) for o in orders[:3]), timeout=8)
    fast = max(usual)
    email.slow_next(1, delay=5)  # the provider now takes 5 s to answer
    late = orders[3]
    body = _charge(late, rng)
    limit = max(2 * fast, 2.5)  # a safety net on a loaded machine; inline waits 5 s
    t0 = time.perf_counter()
    try:  # no need to wait the 5 s out: past the limit, the answer is too slow
        r = post_event(base_url, body, signed(body), timeout=limit)
    except httpx.TimeoutException:
        r = None
    slow = time.perf_counter() - t0
    measure("usual_s", round(fast, 3))
    measure("slow_email_s", round(slow, 3))
    try:
        if r is None:
            fail("slow-answer", f"with the email provider taking 5 s, the payment event had "
                 f"no answer after {slow:.2f} s; it usually takes {fast:.2f} s (expected at "
                 f"most {limit:.2f} s): the provider would give up and send it again")  # fmt: skip
        if slow > limit:
            fail("slow-answer", f"with the email provider taking 5 s, the payment event took "
                 f"{slow:.2f} s to answer; it usually takes {fast:.2f} s (expected at most "
                 f"{limit:.2f} s): the provider would give up and send it again")  # fmt: skip
        assert 200 <= r.status_code < 300, f"a signed event answered {r.status_code}; expected 2xx"
        if not wait_until(lambda: email.calls(str(late)), timeout=8):
            fail("no-email", f"order {late} was paid, but no receipt email was sent for it")
    finally:
        email.release()  # the worker's held call answers now

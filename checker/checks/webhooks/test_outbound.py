"""Events out: signed deliveries to the right endpoints, retried with one webhook-id,
and an endpoint that keeps failing switched off. Every delivery is verified with the
`standardwebhooks` library over the bytes received; only `deliveries_signed` judges the
signatures, so that each mistake is reported by the check about it."""

from __future__ import annotations

import json
import time

from _helpers import (
    at_endpoint,
    auth,
    event_of,
    for_orders,
    new_endpoint,
    new_merchant,
    new_order,
    order_of,
    quiet_for,
    schedule,
    settle,
    verifies,
    wait_until,
)

from checker.observe.sinks import Sink
from checker.verdict import fail

HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


def _count_verified(measure, calls, secret, *more: tuple[list, str]) -> int:
    """How many deliveries the standardwebhooks library accepts (each list of calls with
    its endpoint's secret), recorded beside how many arrived."""
    groups = [(calls, secret), *more]
    n = sum(verifies(c, key) for group, key in groups for c in group)
    measure("deliveries_verified", n)
    measure("deliveries_received", sum(len(group) for group, _ in groups))
    return n


def test_deliveries_signed(http, receivers, rng, measure):
    receiver = receivers["merchant_a"]
    merchant = new_merchant(http, rng)
    endpoint = new_endpoint(http, merchant, receiver, ["order.created", "order.shipped"])
    orders = [new_order(http, merchant, rng) for _ in range(rng.randint(2, 3))]
    shipped = rng.choice(orders)
    r = http.post(f"/orders/{shipped}/ship", headers=auth(merchant))
    assert r.status_code == 200, (
        f"POST /orders/{shipped}/ship answered {r.status_code}; expected 200"
    )
    expected = len(orders) + 1

    def mine():
        return for_orders(at_endpoint(receiver.calls(), endpoint), orders)

    wait_until(lambda: len(mine()) >= expected, timeout=10)
    calls = mine()
    if len(calls) < expected:
        fail("missing-event", f"the endpoint got {len(calls)} of the {expected} events for "
             f"its orders (order.created for {len(orders)} orders, one order.shipped)")  # fmt: skip
    verified = _count_verified(measure, calls, endpoint["secret"])
    for call in calls:
        missing = [h for h in HEADERS if not call["headers"].get(h)]
        if missing:
            fail("missing-headers", f"a delivery came without {', '.join(missing)}")
        stamp = call["headers"]["webhook-timestamp"]
        if not stamp.isdigit() or abs(int(stamp) - call["at"]) > 5:
            off = (
                "not Unix seconds"
                if not stamp.isdigit()
                else (f"{int(stamp) - call['at']:+.0f} s from the time it arrived")
            )
            fail("stale-timestamp", f"a delivery arrived with webhook-timestamp {stamp!r}, "
                 f"{off}; expected the time of sending, within 5 s")  # fmt: skip
    ids = {c["headers"]["webhook-id"] for c in calls}
    if len(ids) < len(calls):
        fail("shared-id", f"{len(calls)} different events arrived with only {len(ids)} "
             "different webhook-ids; a receiver that deduplicates by webhook-id (as Standard "
             "Webhooks asks) would drop the others")  # fmt: skip
    if verified < len(calls):
        bad = next(c for c in calls if not verifies(c, endpoint["secret"]))
        raw = Sink.raw(bad)
        redone = json.dumps(json.loads(raw)).encode()
        why = (" It does verify over the same JSON written by json.dumps (other spacing): "
               "the bytes signed are not the bytes sent."
               if redone != raw and verifies(bad, endpoint["secret"], redone) else "")  # fmt: skip
        fail(
            "bad-signature",
            f"{len(calls) - verified} of {len(calls)} deliveries have a webhook-signature "
            "that does not verify (Standard Webhooks: HMAC-SHA256 with the endpoint's "
            f"secret) over the {len(raw)} bytes received, which began {raw[:50]!r}.{why}",
        )


def test_events_reach_owner_only(http, receivers, rng, measure):
    rec_a, rec_b = receivers["merchant_b"], receivers["merchant_c"]
    shop_a, shop_b = new_merchant(http, rng), new_merchant(http, rng)
    # A wants one type (drawn per run), B both.
    wanted_a = rng.choice(["order.created", "order.shipped"])
    ep_a = new_endpoint(http, shop_a, rec_a, [wanted_a])
    ep_b = new_endpoint(http, shop_b, rec_b, ["order.created", "order.shipped"])
    orders_a = [new_order(http, shop_a, rng) for _ in range(2)]
    orders_b = [new_order(http, shop_b, rng)]
    for shop, order in ((shop_a, orders_a[0]), (shop_b, orders_b[0])):
        r = http.post(f"/orders/{order}/ship", headers=auth(shop))
        assert r.status_code == 200, f"POST /orders/{order}/ship answered {r.status_code}"
    t0 = time.monotonic()
    expect_a = {(o, wanted_a) for o in orders_a if wanted_a == "order.created"} | (
        {(orders_a[0], "order.shipped")} if wanted_a == "order.shipped" else set()
    )
    expect_b = {(orders_b[0], "order.created"), (orders_b[0], "order.shipped")}
    everyone = orders_a + orders_b

    def got(receiver, endpoint):
        return {(order_of(c), event_of(c).get("type"))
                for c in for_orders(at_endpoint(receiver.calls(), endpoint), everyone)}  # fmt: skip

    def wrong(seen_a, seen_b) -> bool:
        """An event at the wrong endpoint: it stays wrong, whatever arrives next."""
        return bool(
            {o for o, _ in seen_a if o in orders_b} | {o for o, _ in seen_b if o in orders_a}
        ) or bool(seen_a - expect_a)

    def done() -> bool:
        seen_a, seen_b = got(rec_a, ep_a), got(rec_b, ep_b)
        return (seen_a >= expect_a and seen_b >= expect_b) or wrong(seen_a, seen_b)

    wait_until(done, 10)
    if not wrong(got(rec_a, ep_a), got(rec_b, ep_b)):
        # Anything more still on its way: a delivery too many is one more job like those
        # awaited, as long to come as each of them took (and a half).
        each = (time.monotonic() - t0) / len(expect_a | expect_b)
        settle(rec_a, rec_b, quiet=quiet_for(each), timeout=5)
    seen_a, seen_b = got(rec_a, ep_a), got(rec_b, ep_b)
    _count_verified(measure, for_orders(at_endpoint(rec_a.calls(), ep_a), everyone), ep_a["secret"],
                    (for_orders(at_endpoint(rec_b.calls(), ep_b), everyone), ep_b["secret"]))  # fmt: skip
    foreign = sorted(
        {o for o, _ in seen_a if o in orders_b} | {o for o, _ in seen_b if o in orders_a}
    )
    if foreign:
        fail("other-merchant", f"merchant A's endpoint and merchant B's received events about "
             f"each other's orders ({foreign}); an event must go to the endpoints of the "
             "order's own merchant only")  # fmt: skip
    extra = sorted(t for o, t in seen_a - expect_a)
    if extra:
        fail("unsubscribed-type", f"an endpoint subscribed to {wanted_a} only also received "
             f"{', '.join(extra)}")  # fmt: skip
    missing = sorted((expect_a - seen_a) | (expect_b - seen_b))
    if missing:
        fail("missing-event", f"{len(missing)} subscribed event(s) never arrived: "
             + ", ".join(f"{t} for order {o}" for o, t in missing))  # fmt: skip


def test_secret_rotation_overlap(http, receivers, rng, measure):
    receiver = receivers["merchant_d"]
    merchant = new_merchant(http, rng)
    endpoint = new_endpoint(http, merchant, receiver, ["order.created"])
    old = endpoint["secret"]
    r = http.post(f"/webhook-endpoints/{endpoint['id']}/rotate-secret", headers=auth(merchant))
    if r.status_code != 200 or not str(r.json().get("secret", "")).startswith("whsec_"):
        fail("no-rotation", f"POST /webhook-endpoints/{endpoint['id']}/rotate-secret answered "
             f"{r.status_code}; expected 200 with the new secret (whsec_...)")  # fmt: skip
    new = r.json()["secret"]
    if new == old:
        fail("same-secret", "the rotated secret is the same as the old one")
    order = new_order(http, merchant, rng)
    wait_until(lambda: for_orders(at_endpoint(receiver.calls(), endpoint), [order]), 10)
    calls = for_orders(at_endpoint(receiver.calls(), endpoint), [order])
    if not calls:
        fail("missing-event", f"no order.created for order {order} arrived after the rotation")
    call = calls[0]
    with_new, with_old = verifies(call, new), verifies(call, old)
    measure("deliveries_verified", int(with_new and with_old))
    measure("deliveries_received", len(calls))
    if not with_new:
        fail(
            "new-secret-unused", "a delivery after the rotation does not verify with the new secret"
        )
    if not with_old:
        fail("old-secret-dropped", "right after the rotation, a delivery does not verify with "
             "the old secret: every receiver still on it rejects the event until it deploys "
             "the new one. During the overlap, sign with both")  # fmt: skip


def test_retries_keep_webhook_id(http, receivers, rng, measure):
    receiver = receivers["merchant_e"]
    merchant = new_merchant(http, rng)
    endpoint = new_endpoint(http, merchant, receiver, ["order.created"])
    receiver.fail_next(2, status=500)
    order = new_order(http, merchant, rng)
    created = time.time()

    def mine():
        return for_orders(at_endpoint(receiver.calls(), endpoint), [order])

    def ids(calls) -> set:
        return {c["headers"].get("webhook-id") for c in calls}

    def over(calls) -> bool:
        """Delivered, or already two webhook-ids: no need to wait for more."""
        return any(c["outcome"] == "ok" for c in calls) or len(ids(calls)) > 1

    SCHEDULE = schedule()
    horizon = SCHEDULE[0] + SCHEDULE[1]
    wait_until(lambda: over(mine()), timeout=horizon * 3 + 6)
    if len(ids(mine())) <= 1:  # an attempt too many would come now, as fast as the first
        first = min([c["at"] for c in mine()], default=created)
        settle(receiver, quiet=quiet_for(max(0.0, first - created)), timeout=5)
    calls = mine()
    gaps = [round(b["at"] - a["at"], 3) for a, b in zip(calls, calls[1:], strict=False)]
    measure("attempts", len(calls))
    measure("gaps_s", gaps)
    _count_verified(measure, calls, endpoint["secret"])
    if len(ids(calls)) > 1:
        fail("new-id-per-attempt", f"the {len(calls)} attempts at one event came with "
             f"{len(ids(calls))} different webhook-ids; a retry must keep the message's id, "
             "so the receiver can tell it already has it")  # fmt: skip
    if not any(c["outcome"] == "ok" for c in calls):
        fail("not-retried", f"the endpoint answered 500 twice and would then have answered "
             f"200, but order {order}'s event arrived {len(calls)} time(s) and never "
             "succeeded")  # fmt: skip
    if len(calls) != 3:
        fail("wrong-attempts", f"expected 3 attempts (two 500s, then a 200), got {len(calls)}")
    short = [(g, s) for g, s in zip(gaps, SCHEDULE, strict=False) if g < 0.8 * s]
    if short:
        fail("no-backoff", f"attempts came {gaps} s apart; the schedule waits {SCHEDULE[:2]} s "
             "before the first two retries")  # fmt: skip
    for call in calls:
        stamp = call["headers"].get("webhook-timestamp", "")
        if not stamp.isdigit() or abs(int(stamp) - call["at"]) > 5:
            fail("stale-timestamp", f"an attempt arrived with webhook-timestamp {stamp!r}; "
                 "each attempt carries the time it was sent")  # fmt: skip
    if verifies(calls[0], endpoint["secret"]) and not all(
        verifies(c, endpoint["secret"]) for c in calls
    ):
        fail("stale-signature", "the first attempt's signature verifies but a retry's does "
             "not: sign each attempt again, with its own timestamp")  # fmt: skip


def test_failing_endpoint_disabled(http, receivers, rng, measure):
    bad_rec, good_rec = receivers["merchant_f"], receivers["merchant_a"]
    merchant = new_merchant(http, rng)
    bad = new_endpoint(http, merchant, bad_rec, ["order.created"])
    good = new_endpoint(http, merchant, good_rec, ["order.created"])
    status = rng.choice([500, 502, 503])
    bad_rec.fail_always(status=status)
    orders = [new_order(http, merchant, rng) for _ in range(3)]

    def state() -> dict:
        r = http.get(f"/webhook-endpoints/{bad['id']}", headers=auth(merchant))
        assert r.status_code == 200, f"GET /webhook-endpoints/{bad['id']} answered {r.status_code}"
        return r.json()

    horizon = sum(schedule())
    per_message = len(schedule()) + 1  # the schedule's attempts at one message
    most = 3 * per_message

    def attempts() -> int:
        return len(for_orders(at_endpoint(bad_rec.calls(), bad), orders))

    def retried_on() -> bool:
        """A message tried more often than the schedule allows: no need to wait longer."""
        calls = for_orders(at_endpoint(bad_rec.calls(), bad), orders)
        return any(sum(order_of(c) == o for c in calls) > per_message for o in orders)

    # Until disabled, or until a message got more attempts than the schedule allows
    # (retried for ever: that is visible at once).
    wait_until(lambda: retried_on() or state().get("status") == "disabled",
               timeout=horizon * 3 + 10)  # fmt: skip
    disabled = state().get("status") == "disabled"
    measure("attempts_before_disabled", attempts())
    if not disabled:
        fail("not-disabled", f"the endpoint answered {status} to every one of {attempts()} "
             f"attempts at 3 messages (the schedule allows {most}), and GET "
             f"/webhook-endpoints/{bad['id']} still says status {state().get('status')!r}; "
             "expected 'disabled' once the 3 messages were given up")  # fmt: skip
    if not str(state().get("disabled_reason") or "").strip():
        fail("not-disabled-reason", "the endpoint is disabled, but GET says no disabled_reason")
    before = len(bad_rec.calls())
    t0 = time.monotonic()
    late = new_order(http, merchant, rng)
    wait_until(lambda: for_orders(at_endpoint(good_rec.calls(), good), [late]), timeout=8)
    # A delivery to the disabled endpoint would be a job of its own, which may run after
    # the healthy endpoint's: wait for it as long as that one took (and a half) to come,
    # so that a busy machine, slower at both, is waited for in proportion; and for as long
    # as it is still in the queues.
    took = time.monotonic() - t0
    settle(bad_rec, quiet=quiet_for(took), timeout=5 + 2 * took)
    _count_verified(measure, at_endpoint(good_rec.calls(), good), good["secret"],
                    (at_endpoint(bad_rec.calls(), bad), bad["secret"]))  # fmt: skip
    got_good = {order_of(c) for c in at_endpoint(good_rec.calls(), good)}
    if for_orders(bad_rec.calls()[before:], [late]):
        fail("still-delivering", f"the endpoint is disabled, yet order {late}'s event was "
             "sent to it")  # fmt: skip
    if not set(orders + [late]) <= got_good:
        fail("healthy-starved", f"the merchant's healthy endpoint got events for orders "
             f"{sorted(got_good & set(orders + [late]))} of {sorted(orders + [late])}")  # fmt: skip

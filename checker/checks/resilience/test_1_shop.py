"""The shop with healthy providers: the smoke check."""

from _helpers import BOOKS, healthy, order_calls, paid_order, quote_calls, said, shown

from checker.verdict import fail


def test_shop_works(http, sinks, rng):
    shipping, payments, warehouse = sinks["shipping"], sinks["payments"], sinks["warehouse"]
    healthy(http, rng)
    book = rng.choice(BOOKS)
    seen = set()
    for _ in range(2):  # a fresh quote each time: from the provider, not a canned one
        r = http.get(f"/books/{book}")
        if r.status_code != 200:
            fail("page-error", f"GET /books/{book} answered {said(r)} {shown(r)}; expected 200.")
        quote = (r.json().get("delivery") or {}).get("quote_id")
        made = {f"shipping_{c['n']}" for c in quote_calls(shipping, book)}
        if quote not in made - seen:
            fail(
                "stale-quote",
                f"GET /books/{book} showed the delivery {r.json().get('delivery')!r}; expected "
                f"the quote the shipping provider gave for this request (one of {sorted(made - seen)}), "
                "as {'quote_id': <its id>}.",
            )
        seen.add(quote)
    order = paid_order(http, book, rng.randint(1, 3))
    charges = order_calls(payments, order["id"])
    if len(charges) != 1 or not charges[0]["headers"].get("idempotency-key"):
        fail(
            "charge",
            f"A checkout made {len(charges)} calls to the payment provider, with "
            f"Idempotency-Key headers {[c['headers'].get('idempotency-key') for c in charges]}; "
            "expected one charge carrying an Idempotency-Key.",
        )
    r = http.post(f"/orders/{order['id']}/pick")
    if r.status_code != 200:
        fail(
            "pick-error",
            f"POST /orders/{order['id']}/pick answered {said(r)} {shown(r)}; expected 200.",
        )
    picks = order_calls(warehouse, order["id"])
    assert len(picks) == 1, (
        f"Picking one paid order called the warehouse {len(picks)} times; expected once."
    )

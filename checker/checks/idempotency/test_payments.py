"""Idempotent payments (draft-ietf-httpapi-idempotency-key-header-06)."""

from _helpers import (
    CURRENCIES,
    body_of,
    charges,
    first_payment,
    new_key,
    new_order,
    pay,
    payment,
    said,
    shown,
)


def test_payment_succeeds(http, sinks, rng):
    provider = sinks["payments"]
    body = payment(rng)
    response = pay(http, body, new_key())
    assert response.status_code == 201, (
        f"POST /payments with an API key, an Idempotency-Key and a valid body answered "
        f"{said(response)}; expected 201 Created with the payment."
    )
    got = body_of(response)
    assert isinstance(got, dict) and isinstance(got.get("id"), int), (
        f"POST /payments answered {shown(response)}; expected the payment, with its id."
    )
    sent = {k: got.get(k) for k in body}
    assert sent == body, (
        f"POST /payments answered {shown(response)}; expected the order_id, amount and "
        f"currency sent ({body})."
    )
    n = len(charges(provider, body["order_id"]))
    assert n == 1, f"One payment charged the provider {n} times; expected exactly once."


def test_replay_same_answer(http, sinks, rng):
    provider = sinks["payments"]
    body, key = payment(rng), new_key()
    first = first_payment(http, provider, body, key)
    for _ in range(2):
        again = pay(http, body, key)
        _same_answer(first, again)
    n = len(charges(provider, body["order_id"]))
    assert n == 1, (
        f"A payment sent three times with the same Idempotency-Key charged the provider {n} "
        "times; expected once. The customer paid more than once for one order."
    )


def _same_answer(first, again) -> None:
    assert (again.status_code, body_of(again)) == (first.status_code, body_of(first)), (
        f"The same POST /payments, retried with the same Idempotency-Key, answered "
        f"{said(again)} {shown(again)}; expected the first answer again, {said(first)} "
        f"{shown(first)}. A client retries because it lost the first answer: it needs its "
        "payment's id."
    )


def test_mismatched_payload_422(http, sinks, rng):
    provider = sinks["payments"]
    key = new_key()
    body = payment(rng)
    first_payment(http, provider, body, key)
    # Each field alone differs: a fingerprint that leaves one out is caught.
    others = [
        {**body, "amount_cents": body["amount_cents"] + rng.randint(1, 900)},
        {**body, "order_id": new_order()},
        {**body, "currency": rng.choice([c for c in CURRENCIES if c != body["currency"]])},
    ]
    for other in others:
        changed = next(k for k in body if other[k] != body[k])
        response = pay(http, other, key)
        assert response.status_code == 422, (
            f"POST /payments with an Idempotency-Key already used for a payment with another "
            f"{changed} answered {said(response)} {shown(response)}; expected 422. The client "
            "reused a key by mistake, and now believes a payment went through that was "
            "never made."
        )
        n = len(charges(provider, other["order_id"])) - (other["order_id"] == body["order_id"])
        assert n == 0, f"The refused payment still charged the provider {n} times; expected 0."


def test_missing_key_400(http, sinks, rng):
    provider = sinks["payments"]
    body = payment(rng)
    response = pay(http, body, None)
    assert response.status_code == 400, (
        f"POST /payments without an Idempotency-Key answered {said(response)}; expected "
        "400 Bad Request. Without a key, a retry of this payment can't be recognised, and "
        "will charge the customer again."
    )
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    problem = body_of(response)
    assert (
        media_type == "application/problem+json"
        and isinstance(problem, dict)
        and (problem.get("status") == 400)
    ), (
        f"The 400 answer is {media_type or 'untyped'} {shown(response)}; expected "
        "application/problem+json with status 400 (RFC 9457), like every other error."
    )
    n = len(charges(provider, body["order_id"]))
    assert n == 0, f"The refused payment still charged the provider {n} times; expected 0."


def test_keys_scoped_per_client(http, sinks, rng):
    provider = sinks["payments"]
    # The README's provider deduplicates by key (like Stripe): so does this one here.
    provider.honour_idempotency_keys()
    key = new_key()
    mine = body_of(first_payment(http, provider, payment(rng), key, client="bookshop"))
    theirs = payment(rng)
    response = pay(http, theirs, key, client="mobile")
    got = body_of(response)
    assert response.status_code == 201 and isinstance(got, dict), (
        f"Another client (another API key) paying with an Idempotency-Key that the first "
        f"client had already used answered {said(response)} {shown(response)}; expected "
        "201 and a payment of its own. Keys belong to the client that chose them."
    )
    assert got.get("id") != mine.get("id") and got.get("order_id") == theirs["order_id"], (
        f"Another client reusing a key got the first client's payment back "
        f"({shown(response)}): it now sees someone else's order and amount."
    )
    n = len(charges(provider, theirs["order_id"]))
    assert n == 1, f"The second client's payment charged the provider {n} times; expected 1." + (
        " The provider took it for a replay of the first client's payment: the key you "
        "forward to the provider must be scoped per client too, like the keys you store."
        if n == 0
        else ""
    )

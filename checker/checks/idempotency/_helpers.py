"""Helpers for the idempotency checks: payments as a client makes them, charges as the
provider (the ``payments`` sink) saw them, answers worded for the learner.

Every check uses its own order ids and Idempotency-Keys, so checks never see each
other's charges. A *charge* is a call that reached the provider and did the work; the
sink counts them, it never deduplicates.
"""

from __future__ import annotations

import json
import secrets
import uuid
from typing import Any

import httpx

CLIENTS = {"bookshop": "sk_test_bookshop", "mobile": "sk_test_mobile"}


def fail(message: str) -> None:
    raise AssertionError(message)


def said(response: httpx.Response) -> str:
    # RFC 9110's name for 422, whatever the server's (older) reason phrase says.
    phrase = "Unprocessable Content" if response.status_code == 422 else response.reason_phrase
    return f"{response.status_code} {phrase or ''}".strip()


def new_key() -> str:
    """A new Idempotency-Key, in one of the shapes real clients send (a UUID, as the
    draft suggests, or another random string): no prefix marks it as the checks'."""
    return secrets.choice((
        lambda: str(uuid.uuid4()),
        lambda: uuid.uuid4().hex,
        lambda: secrets.token_urlsafe(18),
        lambda: f"{secrets.randbelow(10**13)}-{secrets.token_hex(4)}",
    ))()  # fmt: skip


def new_order() -> str:
    """A new order id, in one of the shapes shops use."""
    n = secrets.randbelow(10**9)
    return secrets.choice((
        f"ORD-{n:09d}", f"{2020 + n % 7}-{n:09d}", f"A{n}", str(uuid.uuid4()), f"cart_{n:x}",
    ))  # fmt: skip


CURRENCIES = ["EUR", "USD", "GBP", "CHF"]


def payment(rng, order_id: str | None = None) -> dict[str, Any]:
    """A payment with an amount and currency drawn per run: nothing a service could expect."""
    return {"order_id": order_id or new_order(), "amount_cents": rng.randint(100, 99_999),
            "currency": rng.choice(CURRENCIES)}  # fmt: skip


def pay(http: httpx.Client, body: dict[str, Any], key: str | None,
        client: str = "bookshop") -> httpx.Response:  # fmt: skip
    headers = {"Authorization": f"Bearer {CLIENTS[client]}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return http.post("/payments", json=body, headers=headers)


def body_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def shown(response: httpx.Response) -> str:
    text = json.dumps(body_of(response)) if response.content else "an empty body"
    return text if len(text) <= 160 else text[:157] + "..."


def charges(sink, order_id: str) -> list[dict[str, Any]]:
    """The provider calls that charged this order."""
    return [
        c for c in sink.deliveries()
        if isinstance(c["body"], dict) and c["body"].get("order_id") == order_id
    ]  # fmt: skip


def calls(sink, order_id: str) -> list[dict[str, Any]]:
    """Every provider call for this order, charged or not."""
    return [
        c for c in sink.calls()
        if isinstance(c["body"], dict) and c["body"].get("order_id") == order_id
    ]  # fmt: skip


def first_payment(http: httpx.Client, sink, body: dict[str, Any], key: str,
                  client: str = "bookshop") -> httpx.Response:  # fmt: skip
    """A payment that must succeed for the check to go on."""
    response = pay(http, body, key, client)
    if response.status_code != 201:
        fail(
            f"POST /payments with a new Idempotency-Key answered {said(response)}; expected "
            "201 Created. This check needs a first payment to succeed."
        )
    return response

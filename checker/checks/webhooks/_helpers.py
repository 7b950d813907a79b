"""Shared by the webhook checks: merchants, endpoints and orders made through the API,
what a receiver got (per order, parsed from the raw bytes), and events signed the way the
payment provider signs them (Standard Webhooks, with the `standardwebhooks` library)."""

from __future__ import annotations

import base64
import json
import os
import secrets
import threading
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from standardwebhooks import Webhook, WebhookVerificationError

from checker.observe.sinks import Sink
from checker.people import People

#: Merchants' names and their endpoints' paths come in the shapes real ones have, drawn
#: per run: no name or path marks a merchant or an endpoint as the checks' own.
SHOP_WORDS = ("Paper", "Lantern", "Chapter", "Verse", "Quill", "Harbor", "Attic", "Willow",
              "Inkwell", "Margin", "Folio", "Bramble", "Compass", "Cedar", "Ember")  # fmt: skip
SHOP_KINDS = ("Books", "Bookshop", "Booksellers", "& Co.", "Reads", "Press", "Bookstore")
PATHS = ("/webhooks/{t}", "/api/v1/events/{t}", "/integrations/folio/{t}/events",
         "/callbacks/payments-{t}", "/wh/{t}", "/hooks/folio/{t}")  # fmt: skip


def provider_secret() -> str:
    """lab.toml [env]: the payment provider's signing secret (read once the run began)."""
    return os.environ["PAYMENTS_WEBHOOK_SECRET"]


def schedule() -> list[float]:
    """lab.toml [env]: the compressed retry schedule, seconds before each retry."""
    return [float(s) for s in json.loads(os.environ["WEBHOOK_RETRY_SCHEDULE"])]


def auth(merchant: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {merchant['api_key']}"}


def new_merchant(http, rng) -> dict:
    first, second = rng.sample(SHOP_WORDS, 2)
    name = rng.choice((f"{first} {rng.choice(SHOP_KINDS)}", f"The {first} {second}",
                       f"{first} & {second}", f"{first}{second.lower()} {rng.randint(1, 99)}"))  # fmt: skip
    r = http.post("/merchants", json={"name": name})
    assert r.status_code == 201, f"POST /merchants answered {r.status_code}; expected 201"
    return r.json()


def new_endpoint(http, merchant: dict, receiver: Sink, events: list[str]) -> dict:
    path = secrets.choice(PATHS).format(t=secrets.token_hex(4))  # this endpoint's own path
    r = http.post("/webhook-endpoints", headers=auth(merchant),
                  json={"url": f"{receiver.url}{path}", "events": events})  # fmt: skip
    assert r.status_code == 201, (
        f"POST /webhook-endpoints answered {r.status_code}; expected 201 with the endpoint"
    )
    body = r.json()
    assert str(body.get("secret", "")).startswith("whsec_"), (
        "POST /webhook-endpoints answered without a secret starting with whsec_"
    )
    return {**body, "path": path}


def at_endpoint(calls: list[dict], endpoint: dict) -> list[dict]:
    """The calls made to this endpoint (its own path at the receiver)."""
    return [c for c in calls if c["path"].split("?")[0] == endpoint["path"]]


def new_order(http, merchant: dict, rng) -> int:
    r = http.post("/orders", headers=auth(merchant),
                  json={"customer_email": People(rng).email(),
                        "amount_cents": rng.randint(500, 9000)})  # fmt: skip
    assert r.status_code == 201, f"POST /orders answered {r.status_code}; expected 201"
    return r.json()["id"]


def order_status(http, merchant: dict, order_id: int) -> str:
    r = http.get(f"/orders/{order_id}", headers=auth(merchant))
    assert r.status_code == 200, f"GET /orders/{order_id} answered {r.status_code}; expected 200"
    return r.json()["status"]


def event_of(call: dict) -> dict:
    """A delivery's JSON body, parsed from the bytes received ({} if it is not JSON)."""
    try:
        body = json.loads(Sink.raw(call))
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def order_of(call: dict) -> Any:
    data = event_of(call).get("data")
    return data.get("id") if isinstance(data, dict) else None


def for_orders(calls: list[dict], orders) -> list[dict]:
    wanted = set(orders)
    return [c for c in calls if order_of(c) in wanted]


def verifies(call: dict, secret: str, data: bytes | None = None) -> bool:
    """Whether the standardwebhooks library accepts the delivery, over its raw bytes (or
    over ``data``, to tell what was signed instead)."""
    try:
        Webhook(secret).verify(Sink.raw(call) if data is None else data, call["headers"])
        return True
    except WebhookVerificationError:
        return False


#: A quiet window's least length, whatever the run's own latency.
QUIET_FLOOR = 0.15
#: How long rq must be seen with nothing left to run before a quiet window may end.
IDLE_FOR = 0.1


def quiet_for(took: float) -> float:
    """The quiet window after a delivery (or an email) that took ``took`` seconds to come
    in this run: one more of the same kind comes as fast, so wait half as long again,
    and on a busy machine, slower at both, in proportion."""
    return max(QUIET_FLOOR, 1.5 * took)


def settle(*sinks: Sink, quiet: float, timeout: float) -> None:
    """Wait until none of ``sinks`` got a new call for ``quiet`` seconds (one quiet window
    for them all, not one after the other) and rq has had no job of the run left to run
    (queued, running, scheduled or deferred) for ``IDLE_FOR`` of them: a delivery or an
    email still queued behind others, slowed by a busy machine, or scheduled for later, is
    a job, waited for until it has run, however long that takes (up to ``timeout``: a
    queue that never empties, a job queuing itself again, costs that much time)."""
    from checker.observe.rq import connection, pending

    conn = connection(os.environ["LAB_RUN_REDIS_URL"])
    deadline = time.monotonic() + timeout

    def counts() -> list[int]:
        return [len(sink.calls()) for sink in sinks]

    seen, since, idle_since = counts(), time.monotonic(), None
    try:
        while time.monotonic() < deadline:
            now = time.monotonic()
            if pending(conn):
                idle_since = None
            elif idle_since is None:
                idle_since = now
            quiet_so_far = now - since
            idle = idle_since is not None and now - idle_since >= IDLE_FOR
            if quiet_so_far >= quiet and idle:
                return
            time.sleep(0.05)
            if (fresh := counts()) != seen:
                seen, since = fresh, time.monotonic()
    finally:
        conn.close()


def wait_until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


# ------------------------------------------------------------------ the payment provider


def charge_event(order_id: int, amount: int, charge_id: str) -> bytes:
    """A charge.succeeded event with the provider's own spacing and key order (not what
    json.dumps would write)."""
    return (
        f'{{"data" : {{"charge_id":"{charge_id}",  "amount_cents" :{amount},"order_id": {order_id}}},\n'
        ' "type":"charge.succeeded" , "api_version": "2026-01-01"}'
    ).encode()


def signed(body: bytes, *, msg_id: str | None = None, at: float | None = None,
           secret: str | None = None) -> dict[str, str]:  # fmt: skip
    """The Standard Webhooks headers the provider sends with ``body``."""
    msg_id = msg_id or f"evt_{secrets.token_hex(8)}"
    stamp = datetime.fromtimestamp(at if at is not None else time.time(), UTC)
    signature = Webhook(secret or provider_secret()).sign(msg_id, stamp, body)
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(stamp.timestamp())),
            "webhook-signature": signature, "content-type": "application/json"}  # fmt: skip


def random_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def post_event(url: str, body: bytes, headers: dict[str, str], timeout: float = 20.0):
    with httpx.Client(timeout=timeout) as client:
        return client.post(f"{url}/webhooks/payments", content=body, headers=headers)


def at_once(sends: list[tuple[str, bytes, dict[str, str]]], release) -> list:
    """Post the events together (a barrier), call ``release()``, return the answers (None
    for none)."""
    barrier = threading.Barrier(len(sends))
    answers: list = [None] * len(sends)

    def one(i: int) -> None:
        url, body, headers = sends[i]
        with httpx.Client(timeout=20) as client:
            barrier.wait()
            try:
                answers[i] = client.post(f"{url}/webhooks/payments", content=body,
                                         headers=headers)  # fmt: skip
            except httpx.HTTPError:
                answers[i] = None

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(sends))]
    for t in threads:
        t.start()
    release()
    for t in threads:
        t.join(30)
    return answers

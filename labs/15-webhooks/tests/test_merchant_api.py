"""Tests of what already works. They pass from the start; keep them passing."""

from datetime import UTC, datetime

PROVIDER_SECRET = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"  # as in conftest.py


def test_health(client):
    assert client.get("/health").status_code == 200


def test_signatures_match_the_standard_webhooks_example(client):
    # The example of Standard Webhooks' reference libraries: same secret, id, time and
    # body, same signature.
    from app.signing import sign

    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    assert sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == (
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_an_endpoint_gets_a_secret_and_an_order_queues_its_event(client):
    from app.core import queues

    merchant = client.post("/merchants", json={"name": "Ada's Books"}).json()
    auth = {"Authorization": f"Bearer {merchant['api_key']}"}
    r = client.post("/webhook-endpoints", headers=auth,
                    json={"url": "https://ada.example/hooks", "events": ["order.created"]})  # fmt: skip
    assert r.status_code == 201
    assert r.json()["secret"].startswith("whsec_")
    before = queues.webhooks.count
    r = client.post("/orders", headers=auth,
                    json={"customer_email": "c@example.org", "amount_cents": 1250})  # fmt: skip
    assert r.status_code == 201
    assert queues.webhooks.count == before + 1  # one delivery, for the worker


def test_merchant_calls_need_the_api_key(client):
    assert client.post("/orders", json={"customer_email": "c@example.org",
                                        "amount_cents": 1}).status_code == 401  # fmt: skip


def test_an_event_with_a_good_signature_is_taken(client):
    from app.signing import sign

    body = b'{"type": "charge.refunded", "data": {}}'  # a type Folio does not handle
    stamp = int(datetime.now(UTC).timestamp())
    headers = {"webhook-id": "evt_public_1", "webhook-timestamp": str(stamp),
               "webhook-signature": sign(PROVIDER_SECRET, "evt_public_1", stamp, body)}  # fmt: skip
    r = client.post("/webhooks/payments", content=body, headers=headers)
    assert r.status_code == 200

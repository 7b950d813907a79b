"""Tests of what already works. They pass from the start; keep them passing.

When you fix a bug, add a test here that would have caught it (a retry that charges
twice, a key reused with another amount): the hidden checks tell you what is wrong
today, your own tests keep it from coming back.
"""

import uuid


def new_payment() -> dict:
    return {"order_id": f"order-{uuid.uuid4().hex[:8]}", "amount_cents": 1999, "currency": "EUR"}


def test_health(client):
    assert client.get("/health").json() == {"status": "ok"}


def test_a_payment_charges_once(client, charges):
    body = new_payment()
    response = client.post("/payments", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 201, response.text
    assert response.json()["order_id"] == body["order_id"]
    assert [c["order_id"] for c in charges].count(body["order_id"]) == 1


def test_an_api_key_is_required(client):
    response = client.post(
        "/payments", json=new_payment(), headers={"Authorization": "Bearer nope"}
    )
    assert response.status_code == 401

"""The payment provider: the one place that moves money."""

from app.providers import http
from app.resilience import retrying


def charge(*, order_id: int, amount_cents: int, key: str) -> str:
    """Charges the customer for an order; returns the provider's charge id.

    The provider charges an Idempotency-Key once, however often it is sent: every
    attempt of one charge carries the same `key`, so retrying after a timeout (the
    provider may have charged) is safe."""
    headers = {"Idempotency-Key": key}
    body = {"order_id": str(order_id), "amount_cents": amount_cents, "currency": "EUR"}
    response = retrying(
        lambda deadline: http.send(
            "payments",
            http.payments,
            "POST",
            "/charges",
            json=body,
            headers=headers,
            deadline=deadline,
        )
    )
    return response.json()["id"]

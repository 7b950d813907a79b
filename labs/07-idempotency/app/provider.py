"""The payment provider: the one place that moves money."""

import httpx

from app.core.config import settings


class ProviderError(Exception):
    """The provider failed or did not answer: whether it charged is unknown."""


def charge(*, order_id: str, amount_cents: int, currency: str, key: str | None = None) -> str:
    """Charges the customer; returns the provider's charge id."""
    headers = {"Idempotency-Key": key} if key else {}
    try:
        response = httpx.post(
            f"{str(settings.PAYMENTS_PROVIDER_URL).rstrip('/')}/charges",
            json={"order_id": order_id, "amount_cents": amount_cents, "currency": currency},
            headers=headers,
            timeout=settings.PROVIDER_TIMEOUT_SECONDS,
        )
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise ProviderError(str(exc)) from exc
    return response.json()["id"]

"""The payment provider: the one place that moves money.

Every call carries our trace (W3C `traceparent` and `tracestate`) and our request id,
so the provider's logs and traces can be joined with ours."""

import httpx
from opentelemetry import propagate

from app.core import context, tracing
from app.core.config import settings


def _propagate(request: httpx.Request) -> None:
    # Sent from inside the call's CLIENT span: its traceparent names that span as the
    # provider's parent, in our trace, and the caller's tracestate goes on with it.
    propagate.inject(request.headers)
    ctx = context.current()
    if ctx is not None:
        request.headers["X-Request-ID"] = ctx.request_id


client = httpx.Client(
    base_url=str(settings.PAYMENTS_PROVIDER_URL),
    timeout=5.0,
    event_hooks={"request": [_propagate]},
)


def charge(*, order_id: int, amount_cents: int, card_number: str) -> str:
    """Charges the card for an order; returns the provider's charge id.

    A failed charge raises (this service does not handle provider failures: the
    resilience lab does): the client gets a 500, and our log gets the traceback."""
    body = {
        "order_id": str(order_id),
        "amount_cents": amount_cents,
        "currency": "EUR",
        "card": {"number": card_number},
    }
    request = client.build_request("POST", "/charges", json=body)
    with tracing.client_span(request) as span:
        response = client.send(request)
        tracing.client_span_done(span, response)
    response.raise_for_status()
    return response.json()["id"]

"""The shipping provider: delivery quotes for the book page."""

from app.core.config import policy
from app.providers import http
from app.resilience import Bulkhead, CircuitBreaker, retrying

breaker = CircuitBreaker("shipping", failures=policy.breaker_failures, open_s=policy.breaker_open_s)
bulkhead = Bulkhead("shipping", limit=policy.shipping_max_in_flight)


def quote(book_id: int) -> str:
    """The provider's quote for delivering one book: its id. A GET is safe to retry."""
    with bulkhead.slot():
        response = retrying(
            lambda deadline: breaker.call(
                http.send, "shipping", http.shipping, "GET", f"/quotes/{book_id}", deadline=deadline
            )
        )
    return response.json()["id"]

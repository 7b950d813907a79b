"""The warehouse: picks and packs an order's books."""

from app.providers import http
from app.resilience import once


def pick(*, order_id: int, book_id: int, quantity: int) -> None:
    """Asks the warehouse to pick an order. It keys nothing: every call is a new pick, so
    a call that timed out (it may have picked) is never sent again."""
    body = {"order_id": str(order_id), "book_id": book_id, "quantity": quantity}
    once(
        lambda deadline: http.send(
            "warehouse", http.warehouse, "POST", "/picks", json=body, deadline=deadline
        )
    )

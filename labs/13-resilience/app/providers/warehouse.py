"""The warehouse: picks and packs an order's books."""

from app.providers import http
from app.resilience import retry_on_failure


@retry_on_failure
def pick(*, order_id: int, book_id: int, quantity: int) -> None:
    """Asks the warehouse to pick an order. It keys nothing: every call is a new pick."""
    # TODO: after the warehouse timed out, some orders were packed and shipped twice.
    body = {"order_id": str(order_id), "book_id": book_id, "quantity": quantity}
    http.send("warehouse", http.warehouse, "POST", "/picks", json=body)

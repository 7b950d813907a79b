from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import tuple_
from sqlmodel import Session, col, func, select

from app.models import Customer, Order


def recent_orders(
    *, session: Session, customer_id: int, status: str, limit: int
) -> Sequence[Order]:
    """A customer's most recent orders in one status, newest first."""
    # TODO: the "my orders" page takes a tenth of a second per visit, and more as the
    # shop grows: the database reads every order there is to find one customer's.
    statement = (
        select(Order)
        .where(Order.customer_id == customer_id, Order.status == status)
        .order_by(col(Order.created_at).desc(), col(Order.id).desc())
        .limit(limit)
    )
    return session.exec(statement).all()


def customer_by_email(*, session: Session, email: str) -> Customer | None:
    """The customer with this email, whatever its case (emails are case-insensitive)."""
    # TODO: signing in reads all 50 000 customers, although email has an index.
    statement = select(Customer).where(func.lower(Customer.email) == email.lower())
    return session.exec(statement).first()


class InvalidCursor(ValueError):
    """A cursor this service did not give out."""


def encode_cursor(order: Order) -> str:
    """The position after ``order``: its sort key (created_at, id), opaque to clients."""
    return urlsafe_b64encode(f"{order.created_at.isoformat()}|{order.id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        created_at, order_id = urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(created_at), int(order_id)
    except ValueError as exc:  # bad base64, no "|", not a date or a number
        raise InvalidCursor(cursor) from exc


def order_history(
    *, session: Session, limit: int, cursor: str | None
) -> tuple[Sequence[Order], str | None]:
    """One page of the shop's whole order history, newest first (created_at, then id),
    and the cursor of the page after it (None on the last page)."""
    # Keyset pagination: the cursor is the last row's sort key, and the next page starts
    # right after it, so the index scan begins there instead of reading and discarding
    # every earlier row (OFFSET). Page 500 costs what page 1 costs.
    statement = select(Order)
    if cursor is not None:
        created_at, order_id = decode_cursor(cursor)
        # A row comparison: one range of the (created_at, id) index.
        statement = statement.where(tuple_(Order.created_at, Order.id) < (created_at, order_id))
    statement = statement.order_by(col(Order.created_at).desc(), col(Order.id).desc()).limit(limit)
    orders = session.exec(statement).all()
    next_cursor = encode_cursor(orders[-1]) if len(orders) == limit else None
    return orders, next_cursor

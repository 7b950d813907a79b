from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.models import Customer, CustomerCreate, CustomerPublic, Order, OrderCreate

# Until contract drops it, customers.name is v1's column: v2 writes it too (both columns,
# in one statement) and reads it, so v1 and v2 see the same name with no trigger.
HAS_NAME = (
    "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema ="
    " current_schema() AND table_name = 'customers' AND column_name = 'name')"
)


class UnknownCustomer(Exception):
    """The order names a customer who does not exist."""


def _legacy(session: Session) -> bool:
    return bool(session.connection().execute(text(HAS_NAME)).scalar_one())


def read_customer(*, session: Session, customer_id: int) -> CustomerPublic | None:
    column = "name" if _legacy(session) else "full_name"
    row = (
        session.connection()
        .execute(
            text(f"SELECT id, email, {column} AS full_name FROM customers WHERE id = :id"),
            {"id": customer_id},
        )
        .mappings()
        .one_or_none()
    )
    return CustomerPublic(**row) if row else None


def create_customer(*, session: Session, customer_in: CustomerCreate) -> CustomerPublic:
    both = _legacy(session)
    columns, values = ("email, full_name, name", ":email, :full_name, :full_name") if both else (
        "email, full_name", ":email, :full_name")  # fmt: skip
    row = (
        session.connection()
        .execute(
            text(f"INSERT INTO customers ({columns}) VALUES ({values}) RETURNING id, email, full_name"),
            customer_in.model_dump(),
        )
        .mappings()
        .one()
    )
    session.commit()
    return CustomerPublic(**row)


def rename_customer(*, session: Session, customer_id: int, full_name: str) -> CustomerPublic | None:
    also = ", name = :full_name" if _legacy(session) else ""
    row = (
        session.connection()
        .execute(
            text(
                f"UPDATE customers SET full_name = :full_name{also} WHERE id = :id"
                " RETURNING id, email, full_name"
            ),
            {"full_name": full_name, "id": customer_id},
        )
        .mappings()
        .one_or_none()
    )
    session.commit()
    return CustomerPublic(**row) if row else None


def create_order(*, session: Session, order_in: OrderCreate) -> Order:
    if session.get(Customer, order_in.customer_id) is None:
        raise UnknownCustomer
    order = Order.model_validate(order_in)
    session.add(order)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise UnknownCustomer from exc
    session.refresh(order)
    return order


def recent_orders(*, session: Session, customer_id: int, limit: int) -> list[Order]:
    query = (
        select(Order)
        .where(Order.customer_id == customer_id)
        .order_by(col(Order.created_at).desc(), col(Order.id).desc())
        .limit(limit)
    )
    return list(session.exec(query))

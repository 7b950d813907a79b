from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.models import Customer, CustomerCreate, Order, OrderCreate


class UnknownCustomer(Exception):
    """The order names a customer who does not exist."""


def create_customer(*, session: Session, customer_in: CustomerCreate) -> Customer:
    customer = Customer.model_validate(customer_in)
    session.add(customer)
    session.commit()
    session.refresh(customer)
    return customer


def rename_customer(*, session: Session, customer: Customer, full_name: str) -> Customer:
    customer.full_name = full_name
    session.add(customer)
    session.commit()
    session.refresh(customer)
    return customer


def create_order(*, session: Session, order_in: OrderCreate) -> Order:
    # Once the foreign key exists, PostgreSQL refuses an unknown customer; before it
    # does (during the rollout), we look first, so the answer is the same either way.
    if session.get(Customer, order_in.customer_id) is None:
        raise UnknownCustomer
    order = Order.model_validate(order_in)
    session.add(order)
    try:
        session.commit()
    except IntegrityError as exc:  # the customer was deleted meanwhile
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

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from app.api.deps import MerchantDep, SessionDep
from app.api.errors import problems
from app.events import emit, order_data
from app.models import Order

router = APIRouter(tags=["orders"])


class OrderIn(BaseModel):
    customer_email: str = Field(
        min_length=3, max_length=254, pattern=r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+$"
    )
    amount_cents: int = Field(gt=0, le=100_000_000)


class OrderOut(BaseModel):
    id: int
    customer_email: str
    amount_cents: int
    status: str  # created, paid (the payment provider said so), shipped


def _own(session: SessionDep, merchant: MerchantDep, order_id: int) -> Order:
    order = session.get(Order, order_id)
    if order is None or order.merchant_id != merchant.id:
        raise HTTPException(404, f"You have no order {order_id}.")
    return order


@router.post("/orders", status_code=201, response_model=OrderOut, responses=problems(401, 422))
def create_order(body: OrderIn, session: SessionDep, merchant: MerchantDep) -> Order:
    order = Order(merchant_id=merchant.id, **body.model_dump())
    session.add(order)
    session.flush()  # the order's id, for the event; one commit for both
    emit(session, merchant.id, "order.created", order_data(order))
    session.refresh(order)
    return order


@router.get("/orders/{order_id}", response_model=OrderOut, responses=problems(401, 404, 422))
def get_order(order_id: int, session: SessionDep, merchant: MerchantDep) -> Order:
    return _own(session, merchant, order_id)


@router.post("/orders/{order_id}/ship", response_model=OrderOut,
             responses=problems(401, 404, 409, 422))  # fmt: skip
def ship_order(order_id: int, session: SessionDep, merchant: MerchantDep) -> Order:
    order = _own(session, merchant, order_id)
    if order.status == "shipped":
        raise HTTPException(409, f"Order {order_id} has already shipped.")
    order.status = "shipped"
    session.add(order)
    emit(session, merchant.id, "order.shipped", order_data(order))
    session.refresh(order)
    return order

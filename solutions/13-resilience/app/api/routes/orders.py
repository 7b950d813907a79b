from fastapi import APIRouter, HTTPException, Response, status

from app.api.deps import OrderId, SessionDep
from app.api.errors import problems
from app.models import Book, Order, OrderCreate, OrderPublic
from app.providers import payments, warehouse
from app.providers.errors import ProviderError

router = APIRouter(prefix="/orders", tags=["orders"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderPublic,
    responses=problems(404, 502, 503, 504),
)
def checkout(session: SessionDep, order_in: OrderCreate, response: Response) -> Order:
    """Checkout: the order is recorded, then paid through the payment provider."""
    book = session.get(Book, order_in.book_id)
    if book is None:
        raise HTTPException(404, detail=f"No book with id {order_in.book_id}.")
    order = Order.model_validate(
        order_in, update={"amount_cents": book.price_cents * order_in.quantity}
    )
    session.add(order)
    session.commit()
    session.refresh(order)
    try:
        order.charge_id = payments.charge(
            order_id=order.id, amount_cents=order.amount_cents, key=f"order-{order.id}"
        )
    except ProviderError:
        order.status = "payment_failed"
        session.commit()
        raise
    order.status = "paid"
    session.commit()
    session.refresh(order)
    response.headers["Location"] = f"/orders/{order.id}"
    return order


@router.post(
    "/{order_id}/pick", response_model=OrderPublic, responses=problems(404, 409, 502, 503, 504)
)
def pick(session: SessionDep, order_id: OrderId) -> Order:
    """Sends a paid order to the warehouse to be picked and packed."""
    order = session.get(Order, order_id)
    if order is None:
        raise HTTPException(404, detail=f"No order with id {order_id}.")
    if order.status != "paid":
        raise HTTPException(
            409, detail=f"Order {order_id} is {order.status}; only a paid order is picked."
        )
    warehouse.pick(order_id=order.id, book_id=order.book_id, quantity=order.quantity)
    order.status = "picking"
    session.commit()
    session.refresh(order)
    return order

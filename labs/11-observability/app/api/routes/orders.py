import logging

from fastapi import APIRouter, HTTPException, Response, status

from app.api.deps import CurrentUser, SessionDep
from app.api.errors import problems
from app.models import Book, Order, OrderCreate, OrderPublic
from app.providers import payments

router = APIRouter(prefix="/orders", tags=["orders"])
log = logging.getLogger("app.orders")


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=OrderPublic,
    responses=problems(401, 404),
)  # fmt: skip
def place_order(
    session: SessionDep, user: CurrentUser, order_in: OrderCreate, response: Response
) -> Order:
    """Checkout: the order is recorded, then paid through the payment provider."""
    book = session.get(Book, order_in.book_id)
    if book is None:
        raise HTTPException(404, detail=f"No book with id {order_in.book_id}.")
    order = Order(
        user_id=user.id, book_id=book.id, quantity=order_in.quantity,
        amount_cents=book.price_cents * order_in.quantity, note=order_in.note,
    )  # fmt: skip
    session.add(order)
    session.commit()
    session.refresh(order)
    log.info("Order placed", extra={"order_id": order.id, "amount_cents": order.amount_cents})
    order.charge_id = payments.charge(
        order_id=order.id, amount_cents=order.amount_cents, card_number=order_in.card_number
    )
    order.status = "paid"
    session.commit()
    session.refresh(order)
    log.info("Order paid", extra={"order_id": order.id, "charge_id": order.charge_id})
    response.headers["Location"] = f"/orders/{order.id}"
    return order

from typing import Any

from fastapi import APIRouter, HTTPException, status

from app.api.deps import SessionDep
from app.api.errors import problems
from app.models import Book, Order, OrderCreate, OrderPublic

router = APIRouter(prefix="/orders", tags=["orders"])


@router.post(
    "", response_model=OrderPublic, status_code=status.HTTP_201_CREATED, responses=problems()
)
def create_order(session: SessionDep, order_in: OrderCreate) -> Any:
    book = session.get(Book, order_in.book_id)
    if book is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail=f"There is no book {order_in.book_id}."
        )
    order = Order(
        book_id=book.id,
        quantity=order_in.quantity,
        total_cents=book.price_cents * order_in.quantity,
    )
    session.add(order)
    session.commit()
    session.refresh(order)
    return order

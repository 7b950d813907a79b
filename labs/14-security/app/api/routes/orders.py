from fastapi import APIRouter, HTTPException, Response

from app.api.deps import CurrentUser, SessionDep
from app.api.errors import problems
from app.core.security import secure
from app.models import Book, Order, OrderCreate, OrderItem, OrderItemPublic, OrderPublic

router = APIRouter(tags=["orders"])


@router.post("/orders", status_code=201, response_model=OrderPublic, responses=problems(401, 404))
def create_order(
    order_in: OrderCreate, user: CurrentUser, session: SessionDep, response: Response
) -> OrderPublic:
    """An order for these books, at their catalogue prices."""
    order = Order(user_id=user.id, total_cents=0)
    session.add(order)
    session.flush()
    items = []
    for item in order_in.items:
        book = session.get(Book, item.book_id)
        if book is None:
            raise HTTPException(404, detail=f"No book with id {item.book_id}.")
        price = item.price_cents if item.price_cents is not None else book.price_cents
        session.add(OrderItem(order_id=order.id, book_id=book.id, quantity=item.quantity,
                              price_cents=price))  # fmt: skip
        items.append(OrderItemPublic(book_id=book.id, quantity=item.quantity, price_cents=price))
    order.total_cents = sum(i.price_cents * i.quantity for i in items)
    session.commit()
    secure(response, private=True)
    return OrderPublic(id=order.id, total_cents=order.total_cents, items=items)

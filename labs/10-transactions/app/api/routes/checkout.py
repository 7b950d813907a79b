from fastapi import APIRouter, Path, status

from app import services
from app.api.deps import SessionDep
from app.api.errors import problems
from app.models import PG_INT_MAX, Book, BookPublic, CheckoutRequest, OrderItemPublic, OrderPublic

router = APIRouter(tags=["checkout"])


@router.post(
    "/checkout",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderPublic,
    responses=problems(404, 409, 503),
)
def checkout(session: SessionDep, cart: CheckoutRequest) -> OrderPublic:
    order = services.checkout(session=session, wallet_id=cart.wallet_id, items=cart.items)
    items = services.order_items(session=session, order_id=order.id)
    return OrderPublic(
        id=order.id,
        wallet_id=order.wallet_id,
        total_cents=order.total_cents,
        items=[OrderItemPublic.model_validate(item, from_attributes=True) for item in items],
        created_at=order.created_at,
    )


@router.get("/books/{book_id}", response_model=BookPublic, responses=problems(404))
def get_book(session: SessionDep, book_id: int = Path(ge=1, le=PG_INT_MAX)) -> Book:
    book = session.get(Book, book_id)
    if book is None:
        raise services.NotFound(f"There is no book {book_id}.")
    return book

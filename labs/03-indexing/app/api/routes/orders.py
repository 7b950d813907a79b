from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status

from app import crud
from app.api.deps import SessionDep
from app.api.errors import problems
from app.models import OrderPage

router = APIRouter(prefix="/orders", tags=["orders"])


@router.get(
    "",
    response_model=OrderPage,
    responses=problems(400),  # 400: a cursor this service did not give out
)
def read_order_history(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Any:
    """The shop's whole order history, newest first, a page at a time: pass the page's
    `next_cursor` back as `cursor` for the page after it."""
    try:
        orders, next_cursor = crud.order_history(session=session, limit=limit, cursor=cursor)
    except crud.InvalidCursor:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            detail="This cursor is not one this service gave out: pass back a page's next_cursor.",
        ) from None
    return OrderPage(orders=orders, next_cursor=next_cursor)

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, status

from app import crud
from app.api.deps import SessionDep
from app.api.errors import problems
from app.models import OrderPublic

router = APIRouter(prefix="/orders", tags=["orders"])


@router.get(
    "/{order_id}",
    response_model=OrderPublic,
    responses=problems(404),  # 404: no order has this id
)
def read_order(session: SessionDep, order_id: Annotated[int, Path(ge=1, le=2_147_483_647)]) -> Any:
    # Order ids are PostgreSQL integers: anything outside them is no order (a 422), never
    # a query the database refuses (a 500).
    order = crud.get_order(session=session, order_id=order_id)
    if order is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"There is no order {order_id}.")
    return order

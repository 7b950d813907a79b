from typing import Any

from fastapi import APIRouter, HTTPException, status

from app import crud
from app.api.deps import SessionDep
from app.models import OrderPublic

router = APIRouter(prefix="/orders", tags=["orders"])


@router.get("/{order_id}", response_model=OrderPublic)
def read_order(session: SessionDep, order_id: int) -> Any:
    order = crud.get_order(session=session, order_id=order_id)
    if order is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"There is no order {order_id}.")
    return order

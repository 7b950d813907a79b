from typing import Any

from fastapi import APIRouter, HTTPException, Response, status

from app import crud
from app.api.deps import SessionDep
from app.api.errors import problems
from app.models import OrderCreate, OrderPublic

router = APIRouter(prefix="/orders", tags=["orders"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=OrderPublic,
             responses=problems())  # fmt: skip
def create_order(session: SessionDep, order_in: OrderCreate, response: Response) -> Any:
    try:
        order = crud.create_order(session=session, order_in=order_in)
    except crud.UnknownCustomer:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail="No customer has this customer_id."
        ) from None
    response.headers["Location"] = f"/orders/{order.id}"
    return order

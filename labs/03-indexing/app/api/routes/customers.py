from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status

from app import crud
from app.api.deps import SessionDep
from app.models import CustomerPublic, OrderPublic

router = APIRouter(prefix="/customers", tags=["customers"])

Status = Literal["pending", "shipped", "delivered", "cancelled"]


@router.get("/by-email", response_model=CustomerPublic)
def read_customer_by_email(session: SessionDep, email: Annotated[str, Query(min_length=3)]) -> Any:
    customer = crud.customer_by_email(session=session, email=email)
    if customer is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="No customer has this email.")
    return customer


@router.get("/{customer_id}/orders", response_model=list[OrderPublic])
def read_recent_orders(
    session: SessionDep,
    customer_id: int,
    order_status: Annotated[Status, Query(alias="status")] = "shipped",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Any:
    return crud.recent_orders(
        session=session, customer_id=customer_id, status=order_status, limit=limit
    )

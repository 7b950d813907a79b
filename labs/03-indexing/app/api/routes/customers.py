from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, status

from app import crud
from app.api.deps import SessionDep
from app.api.errors import problems
from app.models import CustomerPublic, OrderPublic

router = APIRouter(prefix="/customers", tags=["customers"])

Status = Literal["pending", "shipped", "delivered", "cancelled"]


@router.get(
    "/by-email",
    response_model=CustomerPublic,
    responses=problems(404),  # 404: no customer has this email
)
def read_customer_by_email(
    session: SessionDep,
    # No NUL character: PostgreSQL cannot compare one, and would answer with an error.
    email: Annotated[str, Query(min_length=3, max_length=320, pattern=r"^[^\x00]*$")],
) -> Any:
    customer = crud.customer_by_email(session=session, email=email)
    if customer is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="No customer has this email.")
    return customer


@router.get("/{customer_id}/orders", response_model=list[OrderPublic])
def read_recent_orders(
    session: SessionDep,
    # Ids are PostgreSQL integers: a larger number is no customer (422), not a 500.
    customer_id: Annotated[int, Path(ge=1, le=2_147_483_647)],
    order_status: Annotated[Status, Query(alias="status")] = "shipped",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Any:
    return crud.recent_orders(
        session=session, customer_id=customer_id, status=order_status, limit=limit
    )

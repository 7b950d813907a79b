from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response, status

from app import crud
from app.api.deps import SessionDep
from app.api.errors import problems
from app.models import CustomerCreate, CustomerPublic, CustomerUpdate, OrderPublic

router = APIRouter(prefix="/customers", tags=["customers"])

# Ids are PostgreSQL bigints: a larger number is no customer (422), not a 500.
CustomerId = Annotated[int, Path(ge=1, le=9_223_372_036_854_775_807)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CustomerPublic,
             responses=problems())  # fmt: skip
def create_customer(session: SessionDep, customer_in: CustomerCreate, response: Response) -> Any:
    customer = crud.create_customer(session=session, customer_in=customer_in)
    response.headers["Location"] = f"/customers/{customer.id}"
    return customer


@router.get("/{customer_id}", response_model=CustomerPublic, responses=problems(404))
def read_customer(session: SessionDep, customer_id: CustomerId) -> Any:
    customer = crud.read_customer(session=session, customer_id=customer_id)
    if customer is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="No customer has this id.")
    return customer


@router.patch("/{customer_id}", response_model=CustomerPublic, responses=problems(404))
def rename_customer(session: SessionDep, customer_id: CustomerId, update: CustomerUpdate) -> Any:
    customer = crud.rename_customer(
        session=session, customer_id=customer_id, full_name=update.full_name
    )
    if customer is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="No customer has this id.")
    return customer


@router.get("/{customer_id}/orders", response_model=list[OrderPublic], responses=problems())
def read_recent_orders(
    session: SessionDep,
    customer_id: CustomerId,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> Any:
    return crud.recent_orders(session=session, customer_id=customer_id, limit=limit)

from fastapi import APIRouter, HTTPException

from app import jobs
from app.api.deps import SessionDep
from app.api.errors import problems
from app.core import queues
from app.models import Book, Order, OrderCreate, OrderPublic

router = APIRouter(prefix="/orders", tags=["orders"])


@router.post("", status_code=201, response_model=OrderPublic, responses=problems())
def create_order(order_in: OrderCreate, session: SessionDep):
    if session.get(Book, order_in.book_id) is None:
        raise HTTPException(status_code=422, detail=f"No book {order_in.book_id}.")
    order = Order.model_validate(order_in)
    session.add(order)
    session.commit()
    session.refresh(order)
    # The email goes out from a worker: the customer should not wait for the provider.
    # TODO: when the email provider has a hiccup, the confirmation is never sent.
    queues.emails.enqueue(jobs.send_order_confirmation, order.id)
    return order

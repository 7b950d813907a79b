"""Events from the payment provider: it calls us when a charge settles.

It signs each call the Standard Webhooks way (app/signing.py) with PAYMENTS_WEBHOOK_SECRET,
and, like every provider, retries a call we did not answer with a 2xx in time: the same
event (the same webhook-id) can arrive more than once, even twice at the same moment.
"""

import json

from fastapi import APIRouter, HTTPException, Request
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session

from app import jobs
from app.api.deps import RawBody, SessionDep
from app.api.errors import problems
from app.core import queues
from app.core.config import settings
from app.events import emit, order_data
from app.models import Order, Payment, ProcessedEvent
from app.signing import is_valid

router = APIRouter(tags=["payment provider"])


@router.post("/webhooks/payments", responses=problems(401))
def payment_event(request: Request, body: RawBody, session: SessionDep) -> dict[str, str]:
    headers = request.headers
    if not is_valid(settings.PAYMENTS_WEBHOOK_SECRET, headers, body):
        raise HTTPException(401, "The webhook signature does not match this event.")
    event = json.loads(body)
    if event.get("type") != "charge.succeeded":
        return {"status": "ignored"}  # answer 2xx, or the provider retries it for days
    event_id = headers["webhook-id"]
    if not claim(session, event_id):
        return {"status": "duplicate"}
    order = record_payment(session, event["data"])
    session.commit()
    if order is None:
        return {"status": "ignored"}
    # Answer at once; the worker sends the email. (Stripe: return 2xx quickly, then
    # do the work asynchronously.)
    queues.emails.enqueue(jobs.send_receipt, order.id)
    return {"status": "processed"}


def claim(session: Session, event_id: str) -> bool:
    """Claim the event, in the transaction that will record it: of two deliveries of one
    event, one inserts the row; the other waits until it commits, then inserts nothing
    and knows the event is handled (or claims it, if the first rolled back)."""
    claimed = session.execute(
        insert(ProcessedEvent)
        .values(id=event_id)
        .on_conflict_do_nothing()
        .returning(ProcessedEvent.id)
    ).first()
    return claimed is not None


def record_payment(session: Session, data: dict) -> Order | None:
    """The payment, the order marked paid, and the order.paid event: one commit."""
    order = session.get(Order, data.get("order_id"))
    if order is None:
        return None
    session.add(Payment(order_id=order.id, charge_id=str(data.get("charge_id")),
                        amount_cents=int(data.get("amount_cents", 0))))  # fmt: skip
    order.status = "paid"
    session.add(order)
    emit(session, order.merchant_id, "order.paid", order_data(order))
    return order

"""Events for merchants: each becomes a message, delivered by the worker to every
endpoint of the merchant that subscribed to its type."""

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from app.core import queues
from app.models import Order, WebhookEndpoint, WebhookMessage

EVENT_TYPES = ("order.created", "order.paid", "order.shipped")


def order_data(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "customer_email": order.customer_email,
        "amount_cents": order.amount_cents,
        "status": order.status,
    }


def emit(session: Session, merchant_id: int, event_type: str, data: dict[str, Any]) -> None:
    """Store the event and commit (with whatever else the session holds), then queue one
    delivery per endpoint that wants it."""
    payload = {"type": event_type, "timestamp": datetime.now(UTC).isoformat(), "data": data}
    message = WebhookMessage(id=f"msg_{uuid.uuid4().hex}", merchant_id=merchant_id,
                             event_type=event_type, payload=json.dumps(payload))  # fmt: skip
    session.add(message)
    endpoints = session.exec(
        select(WebhookEndpoint).where(
            col(WebhookEndpoint.status) == "enabled",
            col(WebhookEndpoint.merchant_id) == merchant_id,
        )
    ).all()
    session.commit()
    for endpoint in endpoints:
        if event_type in endpoint.event_types:
            queues.webhooks.enqueue("app.jobs.deliver", message.id, endpoint.id)

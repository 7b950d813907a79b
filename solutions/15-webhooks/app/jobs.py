"""The jobs: functions a worker runs, away from the requests. Their arguments travel
through Redis, so they take plain values (ids, numbers)."""

import json
import time
from datetime import UTC, datetime

import httpx
from sqlmodel import Session

from app.core import queues
from app.core.config import settings
from app.core.db import engine
from app.models import Order, WebhookEndpoint, WebhookMessage
from app.signing import sign

# One HTTP client for every job, made once, when the worker imports this module: each
# job runs in a process the worker forks, and making a client (its TLS settings and
# certificates) costs more than many a delivery.
client = httpx.Client()


def signatures(endpoint: WebhookEndpoint, msg_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature header: the current secret's signature, and the previous
    secret's too while it is still valid after a rotation."""
    signed = [sign(endpoint.secret, msg_id, timestamp, body)]
    until = endpoint.previous_secret_until
    if endpoint.previous_secret and until and until.replace(tzinfo=UTC) > datetime.now(UTC):
        signed.insert(0, sign(endpoint.previous_secret, msg_id, timestamp, body))
    return " ".join(signed)


def deliver(message_id: str, endpoint_id: int, attempt: int = 0, not_before: float = 0.0) -> str:
    """One attempt at delivering a message to an endpoint; queues the next on failure."""
    if (wait := not_before - time.time()) > 0:
        time.sleep(wait)
    with Session(engine) as session:
        message = session.get(WebhookMessage, message_id)
        endpoint = session.get(WebhookEndpoint, endpoint_id)
        if message is None or endpoint is None or endpoint.status != "enabled":
            return "skipped"
        payload = json.loads(message.payload)
        body = json.dumps(payload).encode()
        webhook_id = message.id
        timestamp = int(time.time())
        headers = {
            "webhook-id": webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signatures(endpoint, webhook_id, timestamp, body),
            "content-type": "application/json",
        }
        try:
            r = client.post(endpoint.url, content=body, headers=headers,
                            timeout=settings.WEBHOOK_TIMEOUT_SECONDS)  # fmt: skip
            delivered, outcome = r.is_success, f"HTTP {r.status_code}"
        except httpx.HTTPError as exc:
            delivered, outcome = False, type(exc).__name__
        if delivered:
            endpoint.failed_messages = 0
            session.add(endpoint)
            session.commit()
            return outcome
        schedule = settings.WEBHOOK_RETRY_SCHEDULE
        if attempt < len(schedule):
            queues.retry_later("app.jobs.deliver", message_id, endpoint_id, attempt + 1,
                               delay=schedule[attempt])  # fmt: skip
            return f"{outcome}: will retry"
        # Every attempt failed. An endpoint that keeps failing is switched off, and
        # says why, instead of filling the queue for ever.
        endpoint.failed_messages += 1
        if endpoint.failed_messages >= settings.WEBHOOK_DISABLE_AFTER:
            endpoint.status = "disabled"
            endpoint.disabled_reason = (
                f"every attempt failed for {endpoint.failed_messages} messages in a row "
                f"(last: {outcome})"
            )
        session.add(endpoint)
        session.commit()
        return f"{outcome}: gave up"


def send_receipt(order_id: int) -> str:
    """Email the customer that their payment arrived, through the email provider's API."""
    with Session(engine) as session:
        order = session.get(Order, order_id)
        if order is None:
            raise LookupError(f"Order {order_id} does not exist.")
        r = client.post(
            str(settings.EMAIL_PROVIDER_URL).rstrip("/") + "/emails",
            json={
                "to": order.customer_email,
                "subject": f"Payment received for order #{order.id}",
                "order_id": order.id,
            },
            timeout=10,
        )
        r.raise_for_status()
        return r.json()["id"]

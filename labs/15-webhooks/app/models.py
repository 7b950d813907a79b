"""The tables (their schema: lab check builds it from the same definitions)."""

from datetime import UTC, datetime

from sqlmodel import Field, SQLModel


def now() -> datetime:
    return datetime.now(UTC)


class Merchant(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    api_key: str = Field(unique=True)


class Order(SQLModel, table=True):
    __tablename__ = "customer_order"

    id: int | None = Field(default=None, primary_key=True)
    merchant_id: int = Field(foreign_key="merchant.id")
    customer_email: str
    amount_cents: int
    status: str = "created"  # created, paid, shipped
    created_at: datetime = Field(default_factory=now)


class Payment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="customer_order.id")
    charge_id: str
    amount_cents: int
    created_at: datetime = Field(default_factory=now)


class ProcessedEvent(SQLModel, table=True):
    """An event from the payment provider that we have handled: its webhook-id."""

    __tablename__ = "processed_event"

    id: str = Field(primary_key=True)
    received_at: datetime = Field(default_factory=now)


class WebhookEndpoint(SQLModel, table=True):
    __tablename__ = "webhook_endpoint"

    id: int | None = Field(default=None, primary_key=True)
    merchant_id: int = Field(foreign_key="merchant.id")
    url: str
    events: str  # the event types it wants, comma-separated
    secret: str  # whsec_ and base64 of 24 random bytes
    previous_secret: str | None = None  # after a rotation, until previous_secret_until
    previous_secret_until: datetime | None = None
    status: str = "enabled"  # enabled, disabled
    disabled_reason: str | None = None
    failed_messages: int = 0  # messages in a row whose every attempt failed
    created_at: datetime = Field(default_factory=now)

    @property
    def event_types(self) -> list[str]:
        return self.events.split(",")


class WebhookMessage(SQLModel, table=True):
    """One event for a merchant, delivered to each of its endpoints that wants it."""

    __tablename__ = "webhook_message"

    id: str = Field(primary_key=True)  # msg_...: the webhook-id of its deliveries
    merchant_id: int = Field(foreign_key="merchant.id")
    event_type: str
    payload: str  # the JSON body, as stored
    created_at: datetime = Field(default_factory=now)

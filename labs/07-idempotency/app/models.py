from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel

PG_INT_MAX = 2_147_483_647  # the largest PostgreSQL `integer`


def utc_now() -> datetime:
    return datetime.now(UTC)


class PaymentCreate(SQLModel):
    # schema_extra, not regex=: SQLModel enforces regex= only on tables, never on a body.
    order_id: str = Field(min_length=1, max_length=64, schema_extra={"pattern": r"^[^\x00-\x1f]+$"})
    amount_cents: int = Field(gt=0, le=PG_INT_MAX, description="1299 is 12.99")
    currency: str = Field(default="EUR", schema_extra={"pattern": r"^[A-Z]{3}$"})


class Payment(PaymentCreate, table=True):
    __tablename__ = "payments"

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(index=True)
    status: str = "succeeded"
    provider_charge_id: str
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))


class PaymentPublic(PaymentCreate):
    id: int
    status: str
    provider_charge_id: str
    created_at: datetime

from datetime import UTC, datetime

from pydantic import BaseModel
from pydantic import Field as PydanticField
from sqlmodel import Field, SQLModel

PG_INT_MAX = 2_147_483_647  # the largest PostgreSQL `integer`


class Book(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str
    price_cents: int


class Sale(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    book_id: int = Field(foreign_key="book.id")
    quantity: int
    sold_at: datetime


class OrderBase(SQLModel):
    # schema_extra, not regex=: SQLModel enforces regex= only on tables, never on a body.
    customer_email: str = Field(
        max_length=254, schema_extra={"pattern": r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+$"}
    )
    book_id: int = Field(foreign_key="book.id", ge=1, le=PG_INT_MAX)
    quantity: int = Field(default=1, ge=1, le=100)


class OrderCreate(OrderBase):
    pass


class Order(OrderBase, table=True):
    __tablename__ = "customer_order"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    # Set once the confirmation email is sent.
    confirmation_sent_at: datetime | None = None


class OrderPublic(OrderBase):
    id: int
    created_at: datetime


class ReportRequest(BaseModel):
    month: str = PydanticField(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-03"])


class ReportStatus(BaseModel):
    id: str
    status: str  # queued | started | finished | failed (rq's job statuses)
    status_url: str
    result_url: str | None = None  # once finished: the CSV
    error: str | None = None  # once failed: why

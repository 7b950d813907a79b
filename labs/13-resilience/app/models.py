from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel

PG_INT_MAX = 2_147_483_647  # the largest PostgreSQL `integer`


def utc_now() -> datetime:
    return datetime.now(UTC)


class BookBase(SQLModel):
    title: str
    author: str
    price_cents: int


class Book(BookBase, table=True):
    __tablename__ = "books"

    id: int | None = Field(default=None, primary_key=True)


class BookPublic(BookBase):
    id: int


class Delivery(SQLModel):
    """The shipping provider's quote for one book, as the page shows it."""

    quote_id: str


class BookPage(BookPublic):
    # null while the shipping provider is unavailable: the page still sells the book.
    delivery: Delivery | None


class OrderCreate(SQLModel):
    book_id: int = Field(gt=0, le=PG_INT_MAX)
    quantity: int = Field(default=1, gt=0, le=10)


class Order(OrderCreate, table=True):
    __tablename__ = "orders"

    id: int | None = Field(default=None, primary_key=True)
    amount_cents: int
    # pending -> paid -> picking; payment_failed when the charge did not go through.
    status: str = "pending"
    charge_id: str | None = None
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))


class OrderPublic(OrderCreate):
    id: int
    amount_cents: int
    status: str
    charge_id: str | None
    created_at: datetime

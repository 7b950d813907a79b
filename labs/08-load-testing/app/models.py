from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel

PG_INT_MAX = 2_147_483_647  # the largest PostgreSQL `integer`


def utc_now() -> datetime:
    return datetime.now(UTC)


class BookBase(SQLModel):
    title: str = Field(max_length=255)
    author: str = Field(max_length=255)
    isbn: str = Field(unique=True, max_length=13, description="ISBN-13: 13 digits")
    price_cents: int = Field(gt=0, description="Price in cents: 1299 is 12.99")
    published_year: int | None = None


class Book(BookBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


class BookPublic(BookBase):
    id: int


class OrderCreate(SQLModel):
    book_id: int = Field(ge=1, le=PG_INT_MAX)
    quantity: int = Field(default=1, ge=1, le=10)


class Order(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    book_id: int = Field(foreign_key="book.id", index=True)
    quantity: int
    total_cents: int
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))


class OrderPublic(SQLModel):
    id: int
    book_id: int
    quantity: int
    total_cents: int
    created_at: datetime

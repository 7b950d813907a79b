from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel


def utc_now() -> datetime:
    return datetime.now(UTC)


# TODO: the catalog accepts a book with an empty title, a negative price, or an ISBN
# that is not an ISBN-13 at all.
class BookBase(SQLModel):
    title: str = Field(max_length=255)
    author: str = Field(max_length=255)
    isbn: str = Field(unique=True, description="ISBN-13: 13 digits, no hyphens")
    price_cents: int = Field(description="Price in cents: 1299 is 12.99")
    published_year: int | None = None


class BookCreate(BookBase):
    pass


# A PATCH sends only what changes, so every field is optional here.
class BookUpdate(SQLModel):
    title: str | None = Field(default=None, max_length=255)
    author: str | None = Field(default=None, max_length=255)
    isbn: str | None = None
    price_cents: int | None = None
    published_year: int | None = None


class Book(BookBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))


class BookPublic(BookBase):
    id: int
    created_at: datetime


class Message(SQLModel):
    message: str

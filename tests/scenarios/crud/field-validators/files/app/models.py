from datetime import UTC, datetime
from typing import Self

from pydantic import field_validator, model_validator
from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel


PG_INT_MAX = 2_147_483_647  # what a PostgreSQL integer column holds


def utc_now() -> datetime:
    return datetime.now(UTC)


def check_isbn13(isbn: str | None) -> str | None:
    if isbn is None:
        return None
    if len(isbn) != 13 or not isbn.isdigit():
        raise ValueError("an ISBN-13 is 13 digits")
    if sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(isbn)) % 10:
        raise ValueError("wrong check digit")
    return isbn


def check_title(title: str | None) -> str | None:
    if title is not None and not title:
        raise ValueError("a title cannot be empty")
    return check_text(title)


def check_text(text: str | None) -> str | None:
    if text is not None and "\x00" in text:
        raise ValueError("PostgreSQL cannot store a NUL character")
    return text


def check_price(price: int | None) -> int | None:
    if price is not None and not 0 < price <= PG_INT_MAX:
        raise ValueError(f"a price must be above zero and at most {PG_INT_MAX}")
    return price


def check_year(year: int | None) -> int | None:
    if year is not None and not 1 <= year <= 9999:
        raise ValueError("a year is from 1 to 9999")
    return year


class BookBase(SQLModel):
    title: str = Field(max_length=255)
    author: str = Field(min_length=1, max_length=255)
    isbn: str = Field(unique=True, description="ISBN-13: 13 digits, no hyphens")
    price_cents: int = Field(description="Price in cents: 1299 is 12.99")
    published_year: int | None = None

    @field_validator("title")
    @classmethod
    def title_not_empty(cls, title: str | None) -> str | None:
        return check_title(title)

    @field_validator("isbn")
    @classmethod
    def isbn_is_isbn13(cls, isbn: str | None) -> str | None:
        return check_isbn13(isbn)

    @field_validator("price_cents")
    @classmethod
    def price_above_zero(cls, price: int | None) -> int | None:
        return check_price(price)

    @field_validator("author")
    @classmethod
    def author_no_nul(cls, author: str | None) -> str | None:
        return check_text(author)

    @field_validator("published_year")
    @classmethod
    def year_in_range(cls, year: int | None) -> int | None:
        return check_year(year)


class BookCreate(BookBase):
    pass


# A PATCH sends only what changes, so every field is optional here.
class BookUpdate(SQLModel):
    title: str | None = Field(default=None, max_length=255)
    author: str | None = Field(default=None, min_length=1, max_length=255)
    isbn: str | None = None
    price_cents: int | None = None
    published_year: int | None = None

    @field_validator("title")
    @classmethod
    def title_not_empty(cls, title: str | None) -> str | None:
        return check_title(title)

    @field_validator("isbn")
    @classmethod
    def isbn_is_isbn13(cls, isbn: str | None) -> str | None:
        return check_isbn13(isbn)

    @field_validator("price_cents")
    @classmethod
    def price_above_zero(cls, price: int | None) -> int | None:
        return check_price(price)

    @field_validator("author")
    @classmethod
    def author_no_nul(cls, author: str | None) -> str | None:
        return check_text(author)

    @field_validator("published_year")
    @classmethod
    def year_in_range(cls, year: int | None) -> int | None:
        return check_year(year)

    @model_validator(mode="after")
    def _only_published_year_can_be_cleared(self) -> Self:
        # A field left out stays as it is; a field sent as null is cleared. Every book
        # needs a title, an author, an ISBN and a price, so only the year can go.
        for name in ("title", "author", "isbn", "price_cents"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class Book(BookBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))


class BookPublic(BookBase):
    id: int
    created_at: datetime

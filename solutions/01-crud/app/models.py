from datetime import UTC, datetime
from typing import Annotated, Self

from pydantic import AfterValidator, StringConstraints, model_validator
from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel


def utc_now() -> datetime:
    return datetime.now(UTC)


def _has_isbn13_check_digit(isbn: str) -> str:
    # The last digit makes the weighted sum (weights 1, 3, 1, 3, ...) a multiple of 10,
    # so a single mistyped digit never passes, and most swapped neighbours don't either.
    total = sum(int(digit) * (3 if i % 2 else 1) for i, digit in enumerate(isbn))
    if total % 10:
        raise ValueError("the check digit does not match: this is not a valid ISBN-13")
    return isbn


def _no_nul(text: str) -> str:
    # PostgreSQL cannot store a NUL character in text: refused here, it is the client's
    # 422, not a database error (a 500) at commit.
    if "\x00" in text:
        raise ValueError("must not contain a NUL character")
    return text


# Digits only, no hyphens: one spelling per book, so the unique constraint on isbn
# really means one row per book.
Isbn13 = Annotated[
    str, StringConstraints(pattern=r"^\d{13}$"), AfterValidator(_has_isbn13_check_digit)
]
Text = Annotated[str, AfterValidator(_no_nul)]

# The columns are PostgreSQL integers: a larger number would fail in the database.
PG_INT_MAX = 2_147_483_647


class BookBase(SQLModel):
    title: Text = Field(min_length=1, max_length=255)
    author: Text = Field(min_length=1, max_length=255)
    isbn: Isbn13 = Field(unique=True, description="ISBN-13: 13 digits, no hyphens")
    price_cents: int = Field(gt=0, le=PG_INT_MAX, description="Price in cents: 1299 is 12.99")
    published_year: int | None = Field(default=None, ge=1, le=9999)


class BookCreate(BookBase):
    pass


# A PATCH sends only what changes, so every field is optional here.
class BookUpdate(SQLModel):
    title: Text | None = Field(default=None, min_length=1, max_length=255)
    author: Text | None = Field(default=None, min_length=1, max_length=255)
    isbn: Isbn13 | None = None
    price_cents: int | None = Field(default=None, gt=0, le=PG_INT_MAX)
    published_year: int | None = Field(default=None, ge=1, le=9999)

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

from datetime import UTC, datetime
from typing import Annotated

from pydantic import StringConstraints
from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel

PG_INT_MAX = 2_147_483_647  # the largest PostgreSQL `integer`


# Request bodies are not table models: their constraints go on the type.
# No NUL anywhere: PostgreSQL refuses it in text, and a refusal must be a 422, not a 500.
Email = Annotated[
    str, StringConstraints(max_length=254, pattern=r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+$")
]
CardNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{13,19}$")]
Text = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]


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


class UserCreate(SQLModel):
    email: Email
    password: str = Field(min_length=8, max_length=128)


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True, max_length=254)
    password_hash: str


class UserPublic(SQLModel):
    id: int
    email: str


class Login(SQLModel):
    email: Text = Field(max_length=254)
    password: str = Field(max_length=128)


class Token(SQLModel):
    access_token: str
    token_type: str = "bearer"


class OrderCreate(SQLModel):
    book_id: int = Field(gt=0, le=PG_INT_MAX)
    quantity: int = Field(default=1, gt=0, le=10)
    # Sent on to the payment provider and never stored: we keep no card numbers.
    card_number: CardNumber
    note: Text | None = Field(default=None, max_length=500)  # for the shop, e.g. gift wrap


class Order(SQLModel, table=True):
    __tablename__ = "orders"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    book_id: int = Field(foreign_key="books.id")
    quantity: int
    amount_cents: int
    note: str | None = None
    # pending -> paid; it stays pending if the charge did not go through.
    status: str = "pending"
    charge_id: str | None = None
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))


class OrderPublic(SQLModel):
    id: int
    book_id: int
    quantity: int
    amount_cents: int
    note: str | None
    status: str
    charge_id: str | None
    created_at: datetime

"""The tables (created by the lab's schema, never by the service) and what the API
reads and writes."""

from datetime import datetime

from sqlalchemy import Column, DateTime, LargeBinary
from sqlmodel import Field, SQLModel

PG_INT_MAX = 2_147_483_647  # the largest PostgreSQL `integer`
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text can't hold a NUL character: a 422, not a 500
# (given as schema_extra={"pattern": ...}: SQLModel enforces regex= only on tables, never on a body)


class BookBase(SQLModel):
    title: str
    author: str
    price_cents: int
    published_year: int


class Book(BookBase, table=True):
    __tablename__ = "books"

    id: int | None = Field(default=None, primary_key=True)


class BookPublic(BookBase):
    id: int


class UserBase(SQLModel):
    display_name: str = Field(default="", max_length=80, schema_extra={"pattern": NO_NUL})
    bio: str = Field(default="", max_length=500, schema_extra={"pattern": NO_NUL})
    is_admin: bool = False
    role: str = "customer"
    wallet_balance_cents: int = 0
    email_verified: bool = False


class User(UserBase, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    email: str
    password_hash: str


class UserPublic(UserBase):
    id: int
    email: str


class UserUpdate(SQLModel):
    """What a customer may change about themselves: nothing else is read from the body
    (an unknown field is ignored), so is_admin, role, the balance and the verified flag
    stay the server's to set (OWASP API3:2023)."""

    display_name: str | None = Field(default=None, max_length=80, schema_extra={"pattern": NO_NUL})
    bio: str | None = Field(default=None, max_length=500, schema_extra={"pattern": NO_NUL})


class UserSession(SQLModel, table=True):
    __tablename__ = "sessions"

    token_sha256: str = Field(primary_key=True)
    user_id: int
    created_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), server_default="now()")
    )


class LoginIn(SQLModel):
    email: str = Field(max_length=254, schema_extra={"pattern": NO_NUL})
    password: str = Field(max_length=200, schema_extra={"pattern": NO_NUL})


class OrderItemBase(SQLModel):
    book_id: int = Field(gt=0, le=PG_INT_MAX)
    quantity: int = Field(default=1, gt=0, le=10)
    price_cents: int | None = Field(default=None, ge=0, le=PG_INT_MAX)


class OrderItem(OrderItemBase, table=True):
    __tablename__ = "order_items"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int | None = Field(default=None)


class OrderItemIn(SQLModel):
    """An item as a client orders it: which book, how many. Its price is the catalogue's."""

    book_id: int = Field(gt=0, le=PG_INT_MAX)
    quantity: int = Field(default=1, gt=0, le=10)


class OrderCreate(SQLModel):
    items: list[OrderItemIn] = Field(min_length=1, max_length=20)


class Order(SQLModel, table=True):
    __tablename__ = "orders"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int
    total_cents: int


class OrderItemPublic(SQLModel):
    book_id: int
    quantity: int
    price_cents: int


class OrderPublic(SQLModel):
    id: int
    total_cents: int
    items: list[OrderItemPublic]


class Cover(SQLModel, table=True):
    __tablename__ = "covers"

    book_id: int = Field(primary_key=True)
    content_type: str
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    size: int
    sha256: str
    source_url: str


class CoverIn(SQLModel):
    url: str = Field(max_length=2000, schema_extra={"pattern": NO_NUL})


class CoverPublic(SQLModel):
    book_id: int
    content_type: str
    size: int
    sha256: str

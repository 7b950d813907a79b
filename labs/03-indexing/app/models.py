from datetime import datetime

from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel


class Customer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True)
    name: str


class Order(SQLModel, table=True):
    __tablename__ = "orders"  # "order" is a reserved word in SQL

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    status: str = Field(description="pending, shipped, delivered or cancelled")
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    total_cents: int


class CustomerPublic(SQLModel):
    id: int
    email: str
    name: str


class OrderPublic(SQLModel):
    id: int
    status: str
    created_at: datetime
    total_cents: int


class OrderPage(SQLModel):
    orders: list[OrderPublic]
    next_cursor: str | None = Field(
        default=None, description="pass it as ?cursor= for the next page; null on the last"
    )

"""The one table both versions of the API read and write.

v1 and v2 are two *representations* of the same rows: v1 shows one `author` and a
plain number for the price; v2 shows every author, a subtitle and the currency. The row
keeps everything v2 knows, so a v1 client must never wipe what it cannot see.
"""

from decimal import Decimal

from sqlalchemy import Column, Numeric, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel


class Book(SQLModel, table=True):
    __tablename__ = "books"

    id: int | None = Field(default=None, primary_key=True)
    title: str
    subtitle: str | None = None
    authors: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    price_amount: Decimal = Field(sa_column=Column(Numeric(10, 2), nullable=False))
    currency: str = "EUR"
    format: str = "paperback"
    # Bumped by every change: the ETags are made from it, and If-Match compares it.
    version: int = 1

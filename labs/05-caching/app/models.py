from datetime import datetime

from sqlmodel import Field, SQLModel

PG_INT_MAX = 2_147_483_647  # the largest PostgreSQL `integer`


class BookBase(SQLModel):
    title: str = Field(min_length=1, max_length=200)
    author: str = Field(min_length=1, max_length=200)
    genre: str
    price_cents: int = Field(ge=0, le=PG_INT_MAX)


class Book(BookBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


class BookPublic(BookBase):
    id: int


class BookUpdate(SQLModel):
    # Each field may be left out (it keeps its value), but not sent as null: a book
    # always has a title and a price.
    title: str = Field(default=None, min_length=1, max_length=200)
    price_cents: int = Field(default=None, ge=0, le=PG_INT_MAX)


class Sale(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    book_id: int = Field(foreign_key="book.id")
    customer_id: int
    quantity: int
    sold_at: datetime


class RankedBook(BookPublic):
    units_sold: int


class GenreStats(SQLModel):
    genre: str
    orders: int
    units_sold: int
    revenue_cents: int


class ShopStats(SQLModel):
    genres: list[GenreStats]
    units_sold: int
    revenue_cents: int


class Bestsellers(SQLModel):
    genre: str | None
    books: list[RankedBook]


class Recommendations(SQLModel):
    customer_id: int
    books: list[RankedBook]

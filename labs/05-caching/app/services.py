"""What the storefront computes from the database. Every function here is a real query,
and some are expensive: they read the whole year of sales."""

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.models import (
    Bestsellers,
    Book,
    BookPublic,
    BookUpdate,
    GenreStats,
    RankedBook,
    Recommendations,
    Sale,
    ShopStats,
)

UNITS = func.sum(Sale.quantity).label("units_sold")


def shop_stats(*, session: Session) -> ShopStats:
    """Orders, units and revenue per genre: a scan of every sale."""
    rows = session.exec(
        select(
            Book.genre,
            func.count(col(Sale.id)),
            func.sum(Sale.quantity),
            func.sum(Sale.quantity * Book.price_cents),
        )
        .join(Book, col(Book.id) == Sale.book_id)
        .group_by(Book.genre)
        .order_by(Book.genre)
    ).all()
    genres = [
        GenreStats(genre=g, orders=n, units_sold=units, revenue_cents=revenue)
        for g, n, units, revenue in rows
    ]
    return ShopStats(
        genres=genres,
        units_sold=sum(g.units_sold for g in genres),
        revenue_cents=sum(g.revenue_cents for g in genres),
    )


def _ranked(session: Session, query) -> list[RankedBook]:
    return [
        RankedBook(**BookPublic.model_validate(book).model_dump(), units_sold=units)
        for book, units in session.exec(query).all()
    ]


def bestsellers(*, session: Session, genre: str | None, limit: int) -> Bestsellers:
    """The books that sold the most units, in one genre or in all of them."""
    query = select(Book, UNITS).join(Sale, col(Sale.book_id) == Book.id)
    if genre is not None:
        query = query.where(Book.genre == genre)
    query = query.group_by(col(Book.id)).order_by(UNITS.desc(), col(Book.id)).limit(limit)
    return Bestsellers(genre=genre, books=_ranked(session, query))


def recommendations(*, session: Session, customer_id: int, limit: int = 5) -> Recommendations:
    """The bestsellers of the customer's favourite genre that they have not bought yet."""
    favourite = (
        select(Book.genre)
        .join(Sale, col(Sale.book_id) == Book.id)
        .where(Sale.customer_id == customer_id)
        .group_by(Book.genre)
        .order_by(func.sum(Sale.quantity).desc(), Book.genre)
        .limit(1)
        .scalar_subquery()
    )
    bought = select(Sale.book_id).where(Sale.customer_id == customer_id)
    query = (
        select(Book, UNITS)
        .join(Sale, col(Sale.book_id) == Book.id)
        .where(Book.genre == favourite, col(Book.id).not_in(bought))
        .group_by(col(Book.id))
        .order_by(UNITS.desc(), col(Book.id))
        .limit(limit)
    )
    return Recommendations(customer_id=customer_id, books=_ranked(session, query))


def get_book(*, session: Session, book_id: int) -> Book | None:
    return session.get(Book, book_id)


def update_book(*, session: Session, book: Book, book_in: BookUpdate) -> Book:
    book.sqlmodel_update(book_in.model_dump(exclude_unset=True))
    session.add(book)
    session.commit()
    session.refresh(book)
    return book

from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, func, select

from app.models import (
    Author,
    AuthorPublic,
    Book,
    BookSummary,
    Order,
    OrderItem,
    OrderItemPublic,
    OrderPublic,
    Review,
)


def list_authors(*, session: Session, after: int, limit: int) -> list[AuthorPublic]:
    """The authors with ids above ``after``, in id order, each with their books.

    Three statements whatever the page size: the page of authors (the database does the
    paging), all their books at once (selectinload: one IN query), and every book's
    rating at once (grouped in the database).
    """
    statement = (
        select(Author)
        .where(Author.id > after)
        .order_by(Author.id)
        .limit(limit)
        .options(selectinload(Author.books))
    )
    authors = session.exec(statement).all()
    book_ids = [book.id for author in authors for book in author.books]
    ratings = ratings_of(session=session, book_ids=book_ids)
    return [
        AuthorPublic(
            id=author.id,
            name=author.name,
            books=[summarize(book, ratings.get(book.id, (None, 0))) for book in author.books],
        )
        for author in authors
    ]


def ratings_of(*, session: Session, book_ids: list[int]) -> dict[int, tuple[float | None, int]]:
    """Each book's mean rating (2 decimals) and review count, in one grouped query."""
    if not book_ids:
        return {}
    rows = session.exec(
        select(Review.book_id, func.round(func.avg(Review.rating), 2), func.count(Review.id))
        .where(col(Review.book_id).in_(book_ids))
        .group_by(Review.book_id)
    ).all()
    return {book_id: (float(avg), count) for book_id, avg, count in rows}


def summarize(book: Book, rating: tuple[float | None, int]) -> BookSummary:
    avg_rating, review_count = rating
    return BookSummary(
        id=book.id, title=book.title, avg_rating=avg_rating, review_count=review_count
    )


def get_order(*, session: Session, order_id: int) -> OrderPublic | None:
    """An order with its items and each item's book title: two statements, the order
    and then its items joined to their books (one book per item: a join repeats
    nothing)."""
    order = session.get(
        Order, order_id, options=[selectinload(Order.items).joinedload(OrderItem.book)]
    )
    if order is None:
        return None
    return OrderPublic(
        id=order.id,
        placed_by=order.placed_by,
        items=[
            OrderItemPublic(book_id=item.book_id, title=item.book.title, quantity=item.quantity)
            for item in order.items
        ],
    )

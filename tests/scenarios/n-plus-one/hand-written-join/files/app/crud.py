from sqlalchemy.orm import selectinload
from sqlmodel import Session, func, select

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
    """The page in one statement: the database pages the authors (a subquery with the
    LIMIT, so it counts authors, not joined rows), joins their books and aggregates the
    reviews; Python only groups the rows by author."""
    page = select(Author.id, Author.name).where(Author.id > after).order_by(Author.id)
    page = page.limit(limit).subquery()
    rows = session.exec(
        select(
            page.c.id,
            page.c.name,
            Book.id,
            Book.title,
            func.round(func.avg(Review.rating), 2),
            func.count(Review.id),
        )
        .select_from(page)
        .outerjoin(Book, Book.author_id == page.c.id)
        .outerjoin(Review, Review.book_id == Book.id)
        .group_by(page.c.id, page.c.name, Book.id, Book.title)
        .order_by(page.c.id, Book.id)
    ).all()
    authors: list[AuthorPublic] = []
    for author_id, name, book_id, title, avg_rating, review_count in rows:
        if not authors or authors[-1].id != author_id:
            authors.append(AuthorPublic(id=author_id, name=name, books=[]))
        if book_id is not None:
            authors[-1].books.append(
                BookSummary(
                    id=book_id,
                    title=title,
                    avg_rating=None if avg_rating is None else float(avg_rating),
                    review_count=review_count,
                )
            )
    return authors


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

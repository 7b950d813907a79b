from sqlmodel import Session, func, select

from app.models import (
    Author,
    AuthorPublic,
    Book,
    BookSummary,
    Order,
    OrderItemPublic,
    OrderPublic,
    Review,
)


def list_authors(*, session: Session, after: int, limit: int) -> list[AuthorPublic]:
    """The authors with ids above ``after``, in id order, each with their books."""
    # TODO: the database sends every author the shop has, for a page of 20.
    authors = session.exec(select(Author).order_by(Author.id)).all()
    page = [author for author in authors if author.id > after][:limit]
    # TODO: the page issues one more query for every author on it: 20 authors, 21
    # queries; 100 authors, 101.
    return [
        AuthorPublic(
            id=author.id,
            name=author.name,
            books=[summarize(session=session, book=book) for book in author.books],
        )
        for author in page
    ]


def summarize(*, session: Session, book: Book) -> BookSummary:
    # TODO: every book on the page costs a query of its own for its rating.
    avg_rating, review_count = session.exec(
        select(func.avg(Review.rating), func.count(Review.id)).where(Review.book_id == book.id)
    ).one()
    return BookSummary(
        id=book.id,
        title=book.title,
        avg_rating=None if avg_rating is None else round(float(avg_rating), 2),
        review_count=review_count,
    )


def get_order(*, session: Session, order_id: int) -> OrderPublic | None:
    """An order with its items and each item's book title."""
    order = session.get(Order, order_id)
    if order is None:
        return None
    # TODO: an order of 30 books costs 32 queries to show; an order of 3, five.
    return OrderPublic(
        id=order.id,
        placed_by=order.placed_by,
        items=[
            OrderItemPublic(book_id=item.book_id, title=item.book.title, quantity=item.quantity)
            for item in order.items
        ],
    )

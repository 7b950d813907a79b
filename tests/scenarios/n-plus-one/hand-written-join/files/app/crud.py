from sqlmodel import Session, func, select

from app.models import Author, AuthorPublic, Book, BookSummary, Review


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

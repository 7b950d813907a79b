"""The service layer both API versions share: what a book change means, once.

The routes translate their version's representation to plain row fields (`changes`)
and back; everything that touches the database happens here.
"""

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.models import Book


class CatalogError(Exception):
    status = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(CatalogError):
    status = 404


class PreconditionFailed(CatalogError):
    status = 412


class PreconditionRequired(CatalogError):
    status = 428


def create(session: Session, fields: dict[str, Any]) -> Book:
    book = Book(**fields)
    session.add(book)
    session.commit()
    session.refresh(book)
    return book


def get(session: Session, book_id: int) -> Book:
    book = session.get(Book, book_id)
    if book is None:
        raise NotFound(f"There is no book {book_id}.")
    return book


def page(session: Session, number: int, size: int) -> tuple[list[Book], int]:
    """v1's numbered pages (released that way: v1 clients keep them)."""
    total = session.exec(select(func.count()).select_from(Book)).one()
    return window(session, (number - 1) * size, size), total


def window(session: Session, offset: int, size: int) -> list[Book]:
    """`size` books after skipping `offset` of them, in id order."""
    return list(session.exec(select(Book).order_by(col(Book.id)).offset(offset).limit(size)).all())


def update_book(
    session: Session, book_id: int, changes: dict[str, Any], *, expected_version: int | None = None
) -> Book:
    """Applies `changes` (row fields) and bumps the version. With `expected_version`
    (from If-Match), the change happens only if the book is still at that version."""
    book = get(session, book_id)
    # TODO: two clients holding the same ETag PATCH at once, and both get 200: the
    # second silently overwrites the first one's change.
    if expected_version is not None and book.version != expected_version:
        raise PreconditionFailed(
            "The book changed since you read it: GET it again for its current ETag."
        )
    for field, value in changes.items():
        setattr(book, field, value)
    book.version += 1
    session.add(book)
    session.commit()
    session.refresh(book)
    return book


def delete(session: Session, book_id: int) -> None:
    book = get(session, book_id)
    session.delete(book)
    session.commit()

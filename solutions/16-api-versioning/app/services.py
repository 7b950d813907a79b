"""The service layer both API versions share: what a book change means, once.

The routes translate their version's representation to plain row fields (`changes`)
and back; everything that touches the database happens here.
"""

from typing import Any

from sqlalchemy import func, update
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


def after(session: Session, after_id: int, size: int) -> list[Book]:
    """v2's keyset page: the books after `after_id`, in id order. A book inserted or
    deleted meanwhile moves no other book to another page."""
    return list(
        session.exec(
            select(Book).where(col(Book.id) > after_id).order_by(col(Book.id)).limit(size)
        ).all()
    )


def update_book(
    session: Session, book_id: int, changes: dict[str, Any], *, expected_version: int | None = None
) -> Book:
    """Applies `changes` (row fields) and bumps the version. With `expected_version`
    (from If-Match), the change happens only if the row is still at that version: the
    comparison and the write are one UPDATE, so two clients holding the same ETag can't
    both win."""
    stmt = (
        update(Book)
        .where(col(Book.id) == book_id)
        .values(**changes, version=col(Book.version) + 1)
        .returning(col(Book.id))
    )
    if expected_version is not None:
        stmt = stmt.where(col(Book.version) == expected_version)
    changed = session.exec(stmt).first()  # type: ignore[call-overload]
    session.commit()
    if changed is None:
        get(session, book_id)  # 404 if it is gone
        raise PreconditionFailed(
            "The book changed since you read it: GET it again for its current ETag."
        )
    session.expire_all()
    return get(session, book_id)


def delete(session: Session, book_id: int) -> None:
    book = get(session, book_id)
    session.delete(book)
    session.commit()

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.models import Book, BookCreate, BookUpdate


class DuplicateIsbnError(Exception):
    """Another book in the catalog already has this ISBN."""


def create_book(*, session: Session, book_in: BookCreate) -> Book:
    book = Book.model_validate(book_in)
    return _save(session=session, book=book)


def list_books(*, session: Session, offset: int, limit: int) -> Sequence[Book]:
    # Without ORDER BY, PostgreSQL returns rows in whatever order it finds them on disk,
    # and an UPDATE moves a row. id is unique and only grows: pages never overlap, and
    # books added during a walk land on its last pages.
    statement = select(Book).order_by(Book.id).offset(offset).limit(limit)
    return session.exec(statement).all()


def update_book(*, session: Session, db_book: Book, book_in: BookUpdate) -> Book:
    # exclude_unset: only the fields the client sent, so the others keep their values.
    db_book.sqlmodel_update(book_in.model_dump(exclude_none=True))
    return _save(session=session, book=db_book)


def delete_book(*, session: Session, db_book: Book) -> None:
    session.delete(db_book)
    session.commit()


def _save(*, session: Session, book: Book) -> Book:
    session.add(book)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        # Validation has already ruled out missing fields, so what is left is the unique
        # constraint on isbn. Asking the database is the only race-free way to know:
        # a SELECT first could pass for two requests adding the same ISBN at once.
        raise DuplicateIsbnError from exc
    session.refresh(book)
    return book

from collections.abc import Sequence

from sqlmodel import Session, select

from app.models import Book, BookCreate, BookUpdate


def create_book(*, session: Session, book_in: BookCreate) -> Book:
    book = Book.model_validate(book_in)
    session.add(book)
    # TODO: adding a book whose ISBN is already in the catalog answers 500, and the
    # answer shows the client our SQL statement.
    session.commit()
    session.refresh(book)
    return book


def list_books(*, session: Session, offset: int, limit: int) -> Sequence[Book]:
    # TODO: a client paging through the catalog while books are being edited sees some
    # books twice and never sees others.
    statement = select(Book).offset(offset).limit(limit)
    return session.exec(statement).all()


def update_book(*, session: Session, db_book: Book, book_in: BookUpdate) -> Book:
    # TODO: a PATCH that sends only the new price fails, or wipes the fields it left out.
    db_book.sqlmodel_update(book_in.model_dump())
    session.add(db_book)
    session.commit()
    session.refresh(db_book)
    return db_book


def delete_book(*, session: Session, db_book: Book) -> None:
    session.delete(db_book)
    session.commit()

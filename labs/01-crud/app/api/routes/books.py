from typing import Any

from fastapi import APIRouter

from app import crud
from app.api.deps import SessionDep
from app.models import Book, BookCreate, BookPublic, BookUpdate, Message

router = APIRouter(prefix="/books", tags=["books"])


# TODO: the client can't tell that a new book now exists, nor where to find it.
@router.post("", response_model=BookPublic)
def create_book(session: SessionDep, book_in: BookCreate) -> Any:
    return crud.create_book(session=session, book_in=book_in)


# TODO: ?limit=100000 sends the whole catalog in one response.
# TODO: a client gets the first page but has no way to find the next one.
@router.get("", response_model=list[BookPublic])
def read_books(session: SessionDep, offset: int = 0, limit: int = 100) -> Any:
    return crud.list_books(session=session, offset=offset, limit=limit)


# TODO: asking for a book that doesn't exist (GET, PATCH or DELETE) answers
# 500 Internal Server Error.
@router.get("/{book_id}", response_model=BookPublic)
def read_book(session: SessionDep, book_id: int) -> Any:
    return session.get(Book, book_id)


@router.patch("/{book_id}", response_model=BookPublic)
def update_book(session: SessionDep, book_id: int, book_in: BookUpdate) -> Any:
    book = session.get(Book, book_id)
    return crud.update_book(session=session, db_book=book, book_in=book_in)


# TODO: the client gets 200 and a body to parse for an answer that has nothing to say.
@router.delete("/{book_id}", response_model=Message)
def delete_book(session: SessionDep, book_id: int) -> Any:
    book = session.get(Book, book_id)
    crud.delete_book(session=session, db_book=book)
    return Message(message="Book deleted")

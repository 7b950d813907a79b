from typing import Annotated

from fastapi import Depends, HTTPException, Path, status
from sqlmodel import Session

from app.core.db import get_session
from app.models import PG_INT_MAX, Book

SessionDep = Annotated[Session, Depends(get_session)]


def get_book(session: SessionDep, book_id: Annotated[int, Path(ge=1, le=PG_INT_MAX)]) -> Book:
    book = session.get(Book, book_id)
    if book is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"There is no book {book_id}.")
    return book


# Every route on /books/{book_id} gets the book, or a 404 before its body runs.
BookDep = Annotated[Book, Depends(get_book)]

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlmodel import select

from app.api.deps import BookDep, SessionDep
from app.models import Book, BookPublic

router = APIRouter(prefix="/books", tags=["books"])


@router.get("", response_model=list[BookPublic])
def read_books(
    session: SessionDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Any:
    # The database cuts the page: only `limit` rows are read, converted and sent.
    return session.exec(select(Book).order_by(Book.id).offset(offset).limit(limit)).all()


@router.get("/{book_id}", response_model=BookPublic)
def read_book(book: BookDep) -> Any:
    return book

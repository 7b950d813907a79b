from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlmodel import select

from app.api.deps import BookDep, SessionDep
from app.api.errors import problems
from app.models import PG_INT_MAX, Book, BookPublic

router = APIRouter(prefix="/books", tags=["books"])


@router.get("", response_model=list[BookPublic], responses=problems())
def read_books(
    session: SessionDep,
    offset: Annotated[int, Query(ge=0, le=PG_INT_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Any:
    # The database cuts the page: only `limit` rows are read, converted and sent.
    return session.exec(select(Book).order_by(Book.id).offset(offset).limit(limit)).all()


@router.get("/{book_id}", response_model=BookPublic, responses=problems(404))
def read_book(book: BookDep) -> Any:
    return book

from fastapi import APIRouter, HTTPException

from app.api.deps import BookId, SessionDep
from app.api.errors import problems
from app.models import Book, BookPublic

router = APIRouter(prefix="/books", tags=["books"])


@router.get("/{book_id}", response_model=BookPublic, responses=problems(404))
def get_book(session: SessionDep, book_id: BookId) -> Book:
    book = session.get(Book, book_id)
    if book is None:
        raise HTTPException(404, detail=f"No book with id {book_id}.")
    return book

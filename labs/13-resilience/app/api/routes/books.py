from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from app import crud
from app.api.deps import BookId, SessionDep
from app.api.errors import problems
from app.models import Book, BookPage, BookPublic, Delivery
from app.providers import shipping

router = APIRouter(prefix="/books", tags=["books"])


@router.get("", response_model=list[BookPublic])
def list_books(session: SessionDep, limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[Book]:
    return crud.list_books(session=session, limit=limit)


def get_book(session: SessionDep, book_id: int) -> Book:
    book = session.get(Book, book_id)
    if book is None:
        raise HTTPException(404, detail=f"No book with id {book_id}.")
    return book


@router.get("/{book_id}", response_model=BookPage, responses=problems(404))
def book_page(session: SessionDep, book_id: BookId) -> BookPage:
    """The book, with a delivery quote from the shipping provider."""
    book = get_book(session, book_id)
    # TODO: when the shipping provider is down, nobody can even look at a book.
    delivery = Delivery(quote_id=shipping.quote(book.id))
    return BookPage.model_validate(book, update={"delivery": delivery})


@router.get("/{book_id}/delivery", response_model=Delivery, responses=problems(404, 502, 503, 504))
def delivery_quote(session: SessionDep, book_id: BookId) -> Delivery:
    """The delivery quote alone (the page loads it again when the customer asks)."""
    book = get_book(session, book_id)
    return Delivery(quote_id=shipping.quote(book.id))

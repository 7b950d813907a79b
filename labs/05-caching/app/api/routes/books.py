from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from app import services
from app.api.deps import BookId, SessionDep
from app.api.errors import problems
from app.core import cache
from app.models import Bestsellers, BookPublic, BookUpdate

router = APIRouter(prefix="/books", tags=["books"])

GENRE = r"^[^\x00-\x1f]*$"  # printable text: a genre's name


@router.get("/bestsellers", response_model=Bestsellers, responses=problems())
def bestsellers(
    session: SessionDep,
    genre: Annotated[str | None, Query(max_length=100, pattern=GENRE)] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
):
    # TODO: customers browsing fantasy are sometimes shown the cooking bestsellers.
    return cache.cached(
        f"bestsellers:{limit}",
        lambda: services.bestsellers(session=session, genre=genre, limit=limit).model_dump(),
    )


def _public_book(session: SessionDep, book_id: int) -> dict:
    book = services.get_book(session=session, book_id=book_id)
    if book is None:
        raise HTTPException(status_code=404, detail=f"No book with id {book_id}.")
    return BookPublic.model_validate(book).model_dump()


@router.get("/{book_id}", response_model=BookPublic, responses=problems(404))
def read_book(book_id: BookId, session: SessionDep):
    return cache.cached(f"book:{book_id}", lambda: _public_book(session, book_id))


@router.patch("/{book_id}", response_model=BookPublic, responses=problems(404))
def update_book(book_id: BookId, book_in: BookUpdate, session: SessionDep):
    book = services.get_book(session=session, book_id=book_id)
    if book is None:
        raise HTTPException(status_code=404, detail=f"No book with id {book_id}.")
    book = services.update_book(session=session, book=book, book_in=book_in)
    # TODO: after a price change, the book's page keeps showing the old price.
    return book

import hashlib
from enum import Enum
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response
from sqlmodel import text

from app.api.deps import BookId, CurrentAdmin, SessionDep
from app.api.errors import problems
from app.core.security import secure
from app.covers import fetch_cover
from app.models import NO_NUL, Book, BookPublic, Cover, CoverIn, CoverPublic

router = APIRouter(tags=["books"])

# How search results may be ordered: an Enum, and each value's ORDER BY written by us.
class Sort(str, Enum):
    title = "title"
    title_desc = "-title"
    author = "author"
    author_desc = "-author"
    price = "price_cents"
    price_desc = "-price_cents"
    year = "published_year"
    year_desc = "-published_year"


ORDER_BY = {s: f"{s.value.removeprefix('-')} {'DESC' if s.value.startswith('-') else 'ASC'}" for s in Sort}


@router.get("/books/search", response_model=list[BookPublic], responses=problems())
def search_books(
    session: SessionDep,
    response: Response,
    q: Annotated[str, Query(max_length=100, pattern=NO_NUL)] = "",
    sort: Sort = Sort.title,
) -> list[dict]:
    """Books whose title contains `q` (any case), at most 50."""
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = session.execute(
        text(
            "SELECT id, title, author, price_cents, published_year FROM books "
            f"WHERE title ILIKE :pattern ESCAPE '\\' ORDER BY {ORDER_BY[sort]}, id LIMIT 50"
        ),
        {"pattern": pattern},
    )
    secure(response)
    return [dict(row) for row in rows.mappings()]


@router.get("/books/{book_id}", response_model=BookPublic, responses=problems(404))
def get_book(book_id: BookId, session: SessionDep) -> Book:
    book = session.get(Book, book_id)
    if book is None:
        raise HTTPException(404, detail=f"No book with id {book_id}.")
    return book


@router.post(
    "/books/{book_id}/cover",
    status_code=201,
    response_model=CoverPublic,
    responses=problems(401, 403, 404, 413, 415, 502),
)
def set_cover(book_id: BookId, cover_in: CoverIn, session: SessionDep, admin: CurrentAdmin) -> Cover:
    """Staff only: fetch the image at `url` (on the cover host) and make it the book's cover."""
    if session.get(Book, book_id) is None:
        raise HTTPException(404, detail=f"No book with id {book_id}.")
    data, content_type = fetch_cover(cover_in.url)
    cover = Cover(
        book_id=book_id,
        content_type=content_type,
        data=data,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        source_url=cover_in.url,
    )
    cover = session.merge(cover)
    session.commit()
    return cover


@router.get(
    "/books/{book_id}/cover",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}}},
               **problems(404)},  # fmt: skip
)
def get_cover(book_id: BookId, session: SessionDep) -> Response:
    cover = session.get(Cover, book_id)
    if cover is None:
        raise HTTPException(404, detail=f"Book {book_id} has no cover.")
    return Response(cover.data, media_type=cover.content_type)

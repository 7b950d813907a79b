import hashlib
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Response
from sqlmodel import col, select

from app.api.deps import BookId, CurrentAdmin, SessionDep
from app.api.errors import problems
from app.core.security import secure
from app.covers import fetch_cover
from app.models import NO_NUL, Book, BookPublic, Cover, CoverIn, CoverPublic

router = APIRouter(tags=["books"])

# How search results may be ordered (README): a column, "-" in front for descending.
# A column name can't be a bound parameter: only these values ever reach ORDER BY.
SORT_COLUMNS = {
    "title": Book.title,
    "author": Book.author,
    "price_cents": Book.price_cents,
    "published_year": Book.published_year,
}
Sort = Literal[
    "title", "-title", "author", "-author",
    "price_cents", "-price_cents", "published_year", "-published_year",
]  # fmt: skip


def contains(q: str) -> str:
    """An ILIKE pattern matching q anywhere, q's own % and _ taken literally."""
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@router.get("/books/search", response_model=list[BookPublic], responses=problems())
def search_books(
    session: SessionDep,
    response: Response,
    q: Annotated[str, Query(max_length=100, pattern=NO_NUL)] = "",
    sort: Sort = "title",
) -> list[Book]:
    """Books whose title contains `q` (any case), at most 50."""
    column = SORT_COLUMNS[sort.removeprefix("-")]
    order = column.desc() if sort.startswith("-") else column.asc()
    # q is a bound parameter: whatever it contains, the database sees a value, not SQL.
    matches = col(Book.title).ilike(contains(q), escape="\\")
    statement = select(Book).where(matches).order_by(order, Book.id).limit(50)
    secure(response)
    return list(session.exec(statement).all())


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
def set_cover(
    book_id: BookId, cover_in: CoverIn, session: SessionDep, admin: CurrentAdmin
) -> Cover:
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
    responses={
        200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}}},
        **problems(404),
    },
)
def get_cover(book_id: BookId, session: SessionDep) -> Response:
    cover = session.get(Cover, book_id)
    if cover is None:
        raise HTTPException(404, detail=f"Book {book_id} has no cover.")
    return Response(cover.data, media_type=cover.content_type)

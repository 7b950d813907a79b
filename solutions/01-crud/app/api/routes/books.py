from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response, status

from app import crud
from app.api.conditional import etag_of, if_match_holds, if_none_match_hits
from app.api.deps import BookDep, SessionDep
from app.api.errors import problem_responses
from app.models import PG_INT_MAX, Book, BookCreate, BookPublic, BookUpdate

# Every operation documents its errors (problem+json): 422 for any invalid input.
router = APIRouter(prefix="/books", tags=["books"], responses=problem_responses(422))


@router.post(
    "",
    response_model=BookPublic,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(409),
)
def create_book(
    session: SessionDep, book_in: BookCreate, request: Request, response: Response
) -> Any:
    try:
        book = crud.create_book(session=session, book_in=book_in)
    except crud.DuplicateIsbnError:
        raise isbn_conflict(book_in.isbn) from None
    # 201 says a resource now exists; Location says where (RFC 9110, section 15.3.2).
    response.headers["Location"] = str(request.url_for("read_book", book_id=book.id))
    response.headers["ETag"] = book_etag(book)
    return book


@router.get("", response_model=list[BookPublic])
def read_books(
    session: SessionDep,
    request: Request,
    response: Response,
    offset: Annotated[int, Query(ge=0, le=PG_INT_MAX)] = 0,
    # A cap keeps one request from pulling the whole catalog. Asking for more is a 422
    # (and the limit shows in the OpenAPI docs) rather than a page silently cut short.
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Any:
    # One book more than the page tells whether another page follows, without a COUNT.
    books = crud.list_books(session=session, offset=offset, limit=limit + 1)
    if len(books) > limit:
        next_url = request.url.include_query_params(offset=offset + limit, limit=limit)
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return books[:limit]


@router.get("/{book_id}", response_model=BookPublic, responses=problem_responses(404))
def read_book(
    book: BookDep, response: Response, if_none_match: Annotated[str | None, Header()] = None
) -> Any:
    etag = book_etag(book)
    if if_none_match is not None and if_none_match_hits(if_none_match, etag):
        # The client's copy is still current: no body, it already has one.
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
    response.headers["ETag"] = etag
    return book


@router.patch("/{book_id}", response_model=BookPublic, responses=problem_responses(404, 409, 412))
def update_book(
    session: SessionDep,
    book: BookDep,
    book_in: BookUpdate,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> Any:
    if if_match is not None:
        # Lock the row first, or another write could land between this comparison and
        # our commit, and one of the two updates would be lost after all.
        session.refresh(book, with_for_update=True)
        if not if_match_holds(if_match, book_etag(book)):
            raise HTTPException(
                status.HTTP_412_PRECONDITION_FAILED,
                detail="The book has changed since you read it: GET it again, then retry.",
            )
    try:
        book = crud.update_book(session=session, db_book=book, book_in=book_in)
    except crud.DuplicateIsbnError:
        raise isbn_conflict(book_in.isbn) from None
    response.headers["ETag"] = book_etag(book)
    return book


@router.delete(
    "/{book_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(404)
)
def delete_book(session: SessionDep, book: BookDep) -> None:
    crud.delete_book(session=session, db_book=book)


def book_etag(book: Book) -> str:
    return etag_of(BookPublic.model_validate(book))


def isbn_conflict(isbn: str | None) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, detail=f"Another book already has ISBN {isbn}.")

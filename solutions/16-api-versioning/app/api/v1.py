"""v1 of the books API, as released: mobile apps in the field still call it.

Its contract is frozen: the same paths, fields, types and rules as on release day
(the released OpenAPI is the reference). New things go to v2.
"""

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response, status
from pydantic import BaseModel, Field

from app import services
from app.api.deps import SessionDep
from app.api.errors import problems
from app.api.versioning import etag, none_match
from app.models import Book

router = APIRouter(prefix="/v1", tags=["v1"])


class Format(StrEnum):
    hardcover = "hardcover"
    paperback = "paperback"
    ebook = "ebook"


class BookV1(BaseModel):
    id: int
    title: str
    author: str  # v1 knows one author: the first one
    price: float  # a plain number, in the book's currency
    format: Format


class BookV1Create(BaseModel):
    title: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00]*$")
    author: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00]*$")
    price: float = Field(ge=0, le=100_000)
    format: Format = Format.paperback


class BookV1Update(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=200, pattern=r"^[^\x00]*$")
    author: str | None = Field(default=None, min_length=1, max_length=200, pattern=r"^[^\x00]*$")
    price: float | None = Field(default=None, ge=0, le=100_000)
    format: Format | None = None


class BookV1Page(BaseModel):
    items: list[BookV1]
    page: int
    per_page: int
    total: int


BookId = Annotated[int, Field(ge=1, le=2_147_483_647)]


def to_v1(book: Book) -> BookV1:
    return BookV1(
        id=book.id,  # type: ignore[arg-type]
        title=book.title,
        author=book.authors[0],
        price=float(book.price_amount),
        format=Format(book.format),
    )


def v1_changes(book: Book, patch: BookV1Update) -> dict[str, Any]:
    """Row fields for a v1 PATCH: only what the client sent (null means unchanged:
    v1's fields can't be emptied). What v1 can't see (the subtitle, the other
    authors, the currency) stays as it is."""
    sent = patch.model_dump(exclude_unset=True, exclude_none=True)
    changes: dict[str, Any] = {}
    if "title" in sent:
        changes["title"] = sent["title"]
    if "author" in sent:
        changes["authors"] = [sent["author"], *book.authors[1:]]
    if "price" in sent:
        changes["price_amount"] = round(sent["price"], 2)
    if "format" in sent:
        changes["format"] = sent["format"].value
    return changes


@router.get("/books", responses=problems())
def list_books(
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=50)] = 20,
) -> BookV1Page:
    books, total = services.page(session, page, per_page)
    return BookV1Page(items=[to_v1(b) for b in books], page=page, per_page=per_page, total=total)


@router.post("/books", status_code=status.HTTP_201_CREATED, responses=problems())
def create_book(session: SessionDep, body: BookV1Create, response: Response) -> BookV1:
    book = services.create(
        session,
        {
            "title": body.title,
            "authors": [body.author],
            "price_amount": round(body.price, 2),
            "format": body.format.value,
        },
    )
    response.headers["Location"] = f"/v1/books/{book.id}"
    response.headers["ETag"] = etag(book, "v1")
    return to_v1(book)


@router.get("/books/{book_id}", responses=problems(404))
def read_book(
    session: SessionDep,
    book_id: BookId,
    response: Response,
    if_none_match: Annotated[str | None, Header()] = None,
) -> BookV1:
    book = services.get(session, book_id)
    tag = etag(book, "v1")
    if none_match(if_none_match, tag):
        return Response(status_code=304, headers={"ETag": tag})  # type: ignore[return-value]
    response.headers["ETag"] = tag
    return to_v1(book)


@router.patch("/books/{book_id}", responses=problems(404))
def update_book(
    session: SessionDep, book_id: BookId, patch: BookV1Update, response: Response
) -> BookV1:
    book = services.get(session, book_id)
    book = services.update_book(session, book_id, v1_changes(book, patch))
    response.headers["ETag"] = etag(book, "v1")
    return to_v1(book)


@router.delete("/books/{book_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404))
def delete_book(session: SessionDep, book_id: BookId) -> Response:
    services.delete(session, book_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

"""v1 of the books API, as released: mobile apps in the field still call it.

Its contract is frozen: the same paths, fields, types and rules as on release day
(the released OpenAPI is the reference). New things go to v2.
"""

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response, status
from pydantic import BaseModel, Field

from app import services
from app.api.deps import SessionDep
from app.api.errors import problems
from app.api.versioning import V1_HEADERS, etag, none_match
from app.models import Book


def deprecated(response: Response) -> None:
    # TODO: v1 clients' deprecation alerts ignore this header, and our error answers
    # (404, 422) don't say v1 is deprecated at all.
    response.headers["Deprecation"] = "true"
    response.headers["Sunset"] = V1_HEADERS["Sunset"]
    response.headers["Link"] = V1_HEADERS["Link"]


router = APIRouter(prefix="/v1", tags=["v1"], dependencies=[Depends(deprecated)])


class Format(StrEnum):
    hardcover = "hardcover"
    paperback = "paperback"
    ebook = "ebook"


class BookV1(BaseModel):
    id: int
    title: str
    author: str  # v1 knows one author: the first one
    # TODO: v1 apps crash on the price since v2 shipped (their users see no prices).
    price: Decimal  # the shared model's price: exact, as v2 needs
    format: Format


class BookV1Create(BaseModel):
    title: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00]*$")
    author: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00]*$")
    price: float = Field(ge=0, le=100_000)
    format: Format = Format.paperback
    # TODO: since v2 shipped, creating a book from the mobile app (v1) fails with 422.
    currency: str = Field(pattern=r"^[A-Z]{3}$")  # prices have a currency now


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
        price=book.price_amount,
        format=Format(book.format),
    )


def v1_changes(book: Book, patch: BookV1Update) -> dict[str, Any]:
    """Row fields for a v1 PATCH: the book as v1 shows it, with the patch applied."""
    # TODO: v2 users say a book edited in the mobile app (v1) lost its subtitle, its
    # co-authors and its currency.
    current = to_v1(book).model_dump()
    current.update(patch.model_dump(exclude_unset=True, exclude_none=True))
    return {
        "title": current["title"],
        "subtitle": None,
        "authors": [current["author"]],
        "price_amount": round(current["price"], 2),
        "currency": "EUR",
        "format": Format(current["format"]).value,
    }


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
            "currency": body.currency,
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

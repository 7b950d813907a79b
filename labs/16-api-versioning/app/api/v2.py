"""v2 of the books API: every author, a subtitle, prices as {amount, currency} with
decimal strings (no float rounding), opaque cursors, and If-Match on every change."""

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response, status
from pydantic import BaseModel, Field

from app import cursors, services
from app.api.deps import SessionDep
from app.api.errors import problems
from app.api.v1 import BookId, Format
from app.api.versioning import etag, if_match_version, none_match
from app.models import Book

router = APIRouter(prefix="/v2", tags=["v2"])

Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]  # ISO 4217: EUR, USD, GBP...


class Price(BaseModel):
    amount: str = Field(examples=["25.99"])  # a decimal string: exact, unlike a float
    currency: Currency


class PriceIn(BaseModel):
    amount: Decimal = Field(ge=0, le=100_000, decimal_places=2)
    currency: Currency


class BookV2(BaseModel):
    id: int
    title: str
    subtitle: str | None
    authors: list[str]
    price: Price
    format: Format


class BookV2Create(BaseModel):
    title: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00]*$")
    subtitle: str | None = Field(default=None, max_length=200, pattern=r"^[^\x00]*$")
    authors: list[Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00]*$")]] = (
        Field(min_length=1, max_length=20)
    )
    price: PriceIn
    format: Format = Format.paperback


class BookV2Update(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=200, pattern=r"^[^\x00]*$")
    subtitle: str | None = Field(default=None, max_length=200, pattern=r"^[^\x00]*$")
    authors: (
        list[Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00]*$")]] | None
    ) = Field(default=None, min_length=1, max_length=20)
    price: PriceIn | None = None
    format: Format | None = None


class BookV2Page(BaseModel):
    items: list[BookV2]
    next_cursor: str | None  # null on the last page


def to_v2(book: Book) -> BookV2:
    return BookV2(
        id=book.id,  # type: ignore[arg-type]
        title=book.title,
        subtitle=book.subtitle,
        authors=list(book.authors),
        price=Price(amount=f"{book.price_amount:.2f}", currency=book.currency),
        format=Format(book.format),
    )


def row_fields(data: dict[str, Any]) -> dict[str, Any]:
    fields = {
        k: v
        for k, v in data.items()
        if k in ("title", "subtitle", "authors") and (v is not None or k == "subtitle")
    }
    if data.get("format") is not None:
        fields["format"] = Format(data["format"]).value
    if data.get("price") is not None:
        fields["price_amount"] = data["price"]["amount"]
        fields["currency"] = data["price"]["currency"]
    return fields


@router.get("/books", responses=problems(400))
def list_books(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> BookV2Page:
    offset = cursors.decode(cursor) if cursor else 0
    books = services.window(session, offset, limit + 1)
    more = len(books) > limit
    books = books[:limit]
    next_cursor = cursors.encode(offset + limit) if more else None
    return BookV2Page(items=[to_v2(b) for b in books], next_cursor=next_cursor)


@router.post("/books", status_code=status.HTTP_201_CREATED, responses=problems())
def create_book(session: SessionDep, body: BookV2Create, response: Response) -> BookV2:
    book = services.create(session, row_fields(body.model_dump()))
    response.headers["Location"] = f"/v2/books/{book.id}"
    response.headers["ETag"] = etag(book, "v2")
    return to_v2(book)


@router.get("/books/{book_id}", responses=problems(404))
def read_book(
    session: SessionDep,
    book_id: BookId,
    response: Response,
    if_none_match: Annotated[str | None, Header()] = None,
) -> BookV2:
    book = services.get(session, book_id)
    tag = etag(book, "v2")
    if none_match(if_none_match, tag):
        return Response(status_code=304, headers={"ETag": tag})  # type: ignore[return-value]
    response.headers["ETag"] = tag
    return to_v2(book)


@router.patch("/books/{book_id}", responses=problems(404, 412, 428))
def update_book(
    session: SessionDep,
    book_id: BookId,
    patch: BookV2Update,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> BookV2:
    if if_match is None:
        raise services.PreconditionRequired(
            "Send If-Match with the ETag of the book as you last read it (GET it first)."
        )
    expected = if_match_version(if_match, book_id)
    if expected is None:
        services.get(session, book_id)  # 404 first, if it is gone
        raise services.PreconditionFailed("That If-Match names no version of this book.")
    changes = row_fields(patch.model_dump(exclude_unset=True))
    book = services.update_book(session, book_id, changes, expected_version=expected)
    response.headers["ETag"] = etag(book, "v2")
    return to_v2(book)


@router.delete("/books/{book_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404))
def delete_book(session: SessionDep, book_id: BookId) -> Response:
    services.delete(session, book_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

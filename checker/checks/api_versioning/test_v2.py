"""v2 works from the start: the smoke check every other check builds on."""

import pytest
from _helpers import create_v2, said, shown, v2_book

from checker.verdict import expect


@pytest.mark.check("v2_books_work")
def test_v2_create_read_change_delete(http, rng):
    body = v2_book(rng)
    r = http.post("/v2/books", json=body)
    expect(
        r.status_code == 201,
        "wrong-status",
        f"POST /v2/books answered {said(r)} ({shown(r)}); expected 201 Created",
    )
    location = r.headers.get("location")
    expect(
        bool(location),
        "no-location",
        "POST /v2/books answered 201 without a Location header; expected the new book's URL",
    )
    got = http.get(location)
    expect(
        got.status_code == 200,
        "lost",
        f"GET {location} (the Location of the new book) answered {said(got)}; expected 200",
    )
    book = got.json()
    for field in ("title", "subtitle", "authors", "price", "format"):
        expect(book.get(field) == body[field], "not-stored",
               f"GET {location} answered {field}={book.get(field)!r}; expected {body[field]!r}, as created")  # fmt: skip
    tag = got.headers.get("etag")
    expect(
        bool(tag),
        "no-etag",
        f"GET {location} answered without an ETag; expected one (If-Match needs it)",
    )
    new_title = f"{body['title']} (2nd edition)"
    p = http.patch(location, json={"title": new_title}, headers={"If-Match": tag})
    expect(p.status_code == 200, "patch-refused",
           f"PATCH {location} with If-Match: {tag} (the current ETag) answered {said(p)} ({shown(p)}); expected 200")  # fmt: skip
    again = http.get(location)
    expect(again.json().get("title") == new_title, "patch-lost",
           f"After a PATCH of the title, GET {location} answered title={again.json().get('title')!r}; expected {new_title!r}")  # fmt: skip
    expect(again.headers.get("etag") not in (None, tag), "etag-unchanged",
           f"After a PATCH, GET {location} answered ETag {again.headers.get('etag')}; expected a new one (it was {tag})")  # fmt: skip
    d = http.delete(location)
    expect(
        d.status_code == 204,
        "delete",
        f"DELETE {location} answered {said(d)}; expected 204 No Content",
    )
    gone = http.get(location)
    expect(
        gone.status_code == 404,
        "delete",
        f"GET {location} after DELETE answered {said(gone)}; expected 404",
    )


@pytest.mark.check("v2_books_work")
def test_v2_prices_are_exact_decimal_strings(http, rng):
    for _ in range(3):
        amount = f"{rng.randint(0, 999)}.{rng.randint(0, 99):02d}"
        book = create_v2(http, v2_book(rng, price={"amount": amount, "currency": "EUR"}))
        price = http.get(f"/v2/books/{book['id']}").json().get("price")
        expect(price == {"amount": amount, "currency": "EUR"}, "price-inexact",
               f"A v2 book created with price {{'amount': '{amount}', 'currency': 'EUR'}} reads back as {price!r}; expected the same decimal string")  # fmt: skip

"""Invalid input answers 422 and changes nothing (RFC 9110, section 15.5.21).

Every field gets the values the contract forbids: null, missing, the wrong type, empty,
out of range (beyond what PostgreSQL's integer holds), a NUL character PostgreSQL cannot
store. None of them may reach the database: a 500 there is the service's crash.
"""

import pytest
from _helpers import PG_INT_MAX, new_isbn, said, wrong_check_digit

from checker.verdict import fail


def invalid_books(books, rng):
    valid = new_isbn()
    too_big = rng.choice([PG_INT_MAX + 1, 2**40, 10**20])
    cases = [
        ("a negative price", books.payload(price_cents=-rng.randint(1, 10**5))),
        ("a price of zero", books.payload(price_cents=0)),
        (
            f"a price of {too_big} (more than an integer column holds)",
            books.payload(price_cents=too_big),
        ),
        ("a price with a fraction (12.5)", books.payload(price_cents=12.5)),
        ("a price that is not a number", books.payload(price_cents="abc")),
        ("a price of null", books.payload(price_cents=None)),
        ("an empty title", books.payload(title="")),
        ("a title of null", books.payload(title=None)),
        ("a title of 256 characters", books.payload(title="x" * 256)),
        ("a title with a NUL character", books.payload(title="Nul\u0000 and void")),
        ("an author with a NUL character", books.payload(author="A\u0000uthor")),
        ("an empty author", books.payload(author="")),
        ("an ISBN-13 whose check digit is wrong", books.payload(isbn=wrong_check_digit(valid))),
        ("an ISBN of 12 digits", books.payload(isbn=new_isbn()[:12])),
        ("an ISBN with a letter in it", books.payload(isbn=new_isbn()[:12] + "X")),
        ("an ISBN that is a number, not a string", books.payload(isbn=int(new_isbn()))),
        (f"a published_year of {too_big}", books.payload(published_year=too_big)),
    ]
    for field in ("title", "author", "price_cents"):
        body = books.payload()
        del body[field]
        cases.append((f"no {field} at all", body))
    return cases  # fmt: skip


def test_invalid_input_422(http, books, rng):
    wrong, stored, kinds = [], [], set()
    try:
        for what, body in invalid_books(books, rng):
            response = http.post("/books", json=body)
            isbn = body.get("isbn") if isinstance(body.get("isbn"), str) else str(body.get("isbn"))
            kept = books.count_isbn(isbn) > 0
            if kept:
                stored.append(isbn)
            if response.status_code != 422 or kept:
                kinds.add(_kind(response, kept))
                wrong.append(f"{what} got {said(response)}" + (" and was stored" if kept else ""))
    finally:
        books.purge(isbns=stored)
    if wrong:
        fail(
            _worst(kinds),
            "POST /books with invalid input should answer 422 Unprocessable Content and "
            f"store nothing, but: {'; '.join(wrong)}.",
        )


@pytest.mark.check("invalid_input_422")
def test_invalid_patch_422(http, books, rng):
    book = books.create()
    url = f"/books/{book['id']}"
    too_big = rng.choice([PG_INT_MAX + 1, 2**40, 10**20])
    changes = [
        ("a negative price", {"price_cents": -500}),
        (f"a price of {too_big}", {"price_cents": too_big}),
        ("a price of null", {"price_cents": None}),
        ("an empty title", {"title": ""}),
        ("a title of null", {"title": None}),
        ("an author of null", {"author": None}),
        ("a title with a NUL character", {"title": "Nul\u0000"}),
        ("an ISBN of null", {"isbn": None}),
        ("an ISBN-13 whose check digit is wrong", {"isbn": wrong_check_digit(book["isbn"])}),
        (f"a published_year of {too_big}", {"published_year": too_big}),
        ("a body that is a list, not an object", [{"title": "List"}]),
    ]
    rng.shuffle(changes)
    wrong, kinds = [], set()
    try:
        for what, body in changes:
            before = books.row(book["id"])
            response = http.patch(url, json=body)
            changed = books.row(book["id"]) != before
            if response.status_code != 422 or changed:
                kinds.add(_kind(response, changed))
                wrong.append(
                    f"{what} got {said(response)}" + (" and the book changed" if changed else "")
                )
    finally:
        books.purge(ids=[book["id"]])
    if wrong:
        fail(
            _worst(kinds),
            f"PATCH {url} with invalid input should answer 422 Unprocessable Content and "
            f"leave the book as it was, but: {'; '.join(wrong)}.",
        )


def _kind(response, changed: bool) -> str:
    if response.status_code >= 500:
        return "server-error"
    if changed or response.is_success:
        return "accepted-invalid"
    return "wrong-status"


def _worst(kinds: set[str]) -> str:
    # Invalid data let in is the first thing to fix; then crashes; then a wrong 4xx.
    return next(k for k in ("accepted-invalid", "server-error", "wrong-status") if k in kinds)

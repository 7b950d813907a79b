"""Invalid input answers 422 and changes nothing (RFC 9110, section 15.5.21).

Every field gets the values the contract forbids: null, missing, the wrong type, empty,
one past each bound the README states (256 characters, a price of 0, a year of 0 or
10000, one more than PostgreSQL's integer holds), a NUL character PostgreSQL cannot
store, an ISBN of the wrong length whose digits still add up. None of them may reach the
database: a 500 there is the service's crash. And the bounds themselves are allowed: a
title of 1 or 255 characters, a price of 1 cent or 2147483647, the years 1 and 9999, and
no year at all are a valid book.
"""

import pytest
from _helpers import FIELDS, PG_INT_MAX, json_of, new_isbn, said, shown, wrong_check_digit

from checker.verdict import fail

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def digits_that_add_up(length: int, rng) -> str:
    """``length`` digits whose ISBN-13 weighted sum is a multiple of 10: an ISBN's check
    digit rule holds, but it is not 13 digits long."""
    first = "".join(rng.choice("0123456789") for _ in range(length - 1))
    weight = 3 if (length - 1) % 2 else 1
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first))
    last = next(d for d in range(10) if (total + weight * d) % 10 == 0)
    return first + str(last)


def text(length: int, rng) -> str:
    return "".join(rng.choice(LETTERS) for _ in range(length))


def too_big(rng) -> int:
    """A number past PostgreSQL's integer, drawn per run (one past it is probed too)."""
    return rng.choice([PG_INT_MAX + rng.randint(2, 10**6), 2**40, 10**20])


def invalid_books(books, rng):
    valid = new_isbn()
    big = too_big(rng)
    cases = [
        ("a negative price", books.payload(price_cents=-rng.randint(1, 10**5))),
        ("a price of zero", books.payload(price_cents=0)),
        (
            f"a price of {PG_INT_MAX + 1} (one more than an integer column holds)",
            books.payload(price_cents=PG_INT_MAX + 1),
        ),
        (
            f"a price of {big} (more than an integer column holds)",
            books.payload(price_cents=big),
        ),
        ("a price with a fraction (12.5)", books.payload(price_cents=12.5)),
        ("a price that is not a number", books.payload(price_cents="abc")),
        ("a price of null", books.payload(price_cents=None)),
        ("an empty title", books.payload(title="")),
        ("a title of null", books.payload(title=None)),
        ("a title of 256 characters", books.payload(title=text(256, rng))),
        ("a title with a NUL character", books.payload(title="Nul\u0000 and void")),
        ("an author with a NUL character", books.payload(author="A\u0000uthor")),
        ("an empty author", books.payload(author="")),
        ("an author of null", books.payload(author=None)),
        ("an author of 256 characters", books.payload(author=text(256, rng))),
        ("an ISBN-13 whose check digit is wrong", books.payload(isbn=wrong_check_digit(valid))),
        ("an ISBN of 12 digits", books.payload(isbn=digits_that_add_up(12, rng))),
        ("an ISBN of 14 digits", books.payload(isbn=digits_that_add_up(14, rng))),
        ("an ISBN with a letter in it", books.payload(isbn=new_isbn()[:12] + "X")),
        ("an ISBN that is a number, not a string", books.payload(isbn=int(new_isbn()))),
        ("a published_year of 0", books.payload(published_year=0)),
        ("a published_year of 10000", books.payload(published_year=10000)),
        (
            f"a published_year of {-rng.randint(1, 5000)}",
            books.payload(published_year=-rng.randint(1, 5000)),
        ),
        (f"a published_year of {big}", books.payload(published_year=big)),
    ]
    for field in ("title", "author", "isbn", "price_cents"):
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
    big = too_big(rng)
    changes = [
        ("a negative price", {"price_cents": -rng.randint(1, 10**5)}),
        ("a price of zero", {"price_cents": 0}),
        (f"a price of {PG_INT_MAX + 1}", {"price_cents": PG_INT_MAX + 1}),
        (f"a price of {big}", {"price_cents": big}),
        ("a price of null", {"price_cents": None}),
        ("an empty title", {"title": ""}),
        ("a title of null", {"title": None}),
        ("a title of 256 characters", {"title": text(256, rng)}),
        ("an empty author", {"author": ""}),
        ("an author of null", {"author": None}),
        ("an author of 256 characters", {"author": text(256, rng)}),
        ("a title with a NUL character", {"title": "Nul\u0000"}),
        ("an ISBN of null", {"isbn": None}),
        ("an ISBN-13 whose check digit is wrong", {"isbn": wrong_check_digit(book["isbn"])}),
        ("an ISBN of 12 digits", {"isbn": digits_that_add_up(12, rng)}),
        ("a published_year of 0", {"published_year": 0}),
        ("a published_year of 10000", {"published_year": 10000}),
        (f"a published_year of {big}", {"published_year": big}),
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


@pytest.mark.check("invalid_input_422")
def test_bounds_accepted(http, books, rng):
    """The README's bounds are inclusive: a validation stricter than the contract turns
    away real books (a one-letter title, a book with no year)."""
    probes = [
        ("a title of 1 character, an author of 255, a price of 1 cent, the year 1",
         {"title": text(1, rng), "author": text(255, rng), "price_cents": 1,
          "published_year": 1}),
        (f"a title of 255 characters, an author of 1, a price of {PG_INT_MAX}, the year 9999",
         {"title": text(255, rng), "author": text(1, rng), "price_cents": PG_INT_MAX,
          "published_year": 9999}),
        ("no published_year at all (it is optional)", {"published_year": ...}),
    ]  # fmt: skip
    wrong, made = [], []
    try:
        for what, fields in probes:
            body = books.payload(**{k: v for k, v in fields.items() if v is not ...})
            for k in [k for k, v in fields.items() if v is ...]:
                del body[k]
            response = http.post("/books", json=body)
            if response.status_code != 201:
                wrong.append(f"POST /books with {what} answered {said(response)}")
                continue
            created = json_of(response)
            if isinstance(created, dict) and isinstance(created.get("id"), int):
                made.append(created["id"])
                row = books.row(created["id"]) or {}
                want = {"published_year": None} | body
                differs = [f"{f} {shown(row.get(f))}" for f in FIELDS if row.get(f) != want[f]]
                if differs:
                    wrong.append(
                        f"POST /books with {what} stored {', '.join(differs)}, not what was sent"
                    )
        if made:
            url = f"/books/{made[0]}"
            edits = [
                (field, value)
                for field, bounds in (
                    ("title", [text(1, rng), text(255, rng)]),
                    ("author", [text(1, rng), text(255, rng)]),
                    ("price_cents", [1, PG_INT_MAX]),
                    ("published_year", [1, 9999]),
                )
                for value in bounds
            ]
            rng.shuffle(edits)
            for field, value in edits:
                response = http.patch(url, json={field: value})
                stored = (books.row(made[0]) or {}).get(field)
                if response.status_code != 200 or stored != value:
                    wrong.append(
                        f"PATCH {url} setting {field} to {_short(value)} (within the "
                        f"README's bounds) answered {said(response)}, and the stored "
                        f"{field} is {_short(stored)}"
                    )
    finally:
        books.purge(ids=made)
    if wrong:
        fail(
            "rejects-valid",
            "The README's bounds are inclusive (titles and authors of 1 to 255 characters, "
            f"a price of 1 to {PG_INT_MAX} cents, a year from 1 to 9999, or none), and a "
            f"book within them is valid, but: {'; '.join(wrong)}. Expected 201 Created "
            "(200 OK for a PATCH) and the book stored as sent.",
        )


def _short(value) -> str:
    spelled = shown(value)
    if len(spelled) <= 24:
        return spelled
    return f"{spelled[:20]}... ({len(value)} characters)"


def _kind(response, changed: bool) -> str:
    if response.status_code >= 500:
        return "server-error"
    if changed or response.is_success:
        return "accepted-invalid"
    return "wrong-status"


def _worst(kinds: set[str]) -> str:
    # Invalid data let in is the first thing to fix; then crashes; then a wrong 4xx.
    return next(k for k in ("accepted-invalid", "server-error", "wrong-status") if k in kinds)

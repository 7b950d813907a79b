"""A second book with the same ISBN answers 409 Conflict (RFC 9110, section 15.5.10)."""

import pytest
from _helpers import FIELDS, leak_in, said, status_kind

from checker.observe.races import at_once, writes_held
from checker.verdict import expect


def test_duplicate_isbn_409(http, books):
    first = books.create()
    isbn = first["isbn"]
    response = http.post("/books", json=books.payload(isbn=isbn, title="Another Book"))
    expect(
        response.status_code == 409,
        status_kind(response),
        f"POST /books with an ISBN already in the catalog answered {said(response)}; "
        "expected 409 Conflict.",
    )
    count = books.count_isbn(isbn)
    expect(
        count == 1,
        "duplicate-stored",
        f"POST /books with an ISBN already in the catalog answered 409, yet {count} books "
        "now have that ISBN; expected exactly one.",
    )
    leak = leak_in(response)
    expect(
        leak is None,
        "leaks-internals",
        f"The 409 answer shows the client server internals ({leak!r}); expected a plain "
        "explanation, with no SQL and no stack trace.",
    )


@pytest.mark.check("duplicate_isbn_409")
def test_duplicate_of_a_book_written_elsewhere(http, books):
    """The catalog is the database, not what this process has seen: a book another copy
    of the service stored (here: the checker, straight into the table) is a duplicate too."""
    isbn = books.payload()["isbn"]
    books.query(
        "INSERT INTO book (title, author, isbn, price_cents, published_year, created_at)"
        " VALUES ('Stored Elsewhere', 'Other Replica', %s, 999, NULL, now())",
        [isbn],
    )
    response = http.post("/books", json=books.payload(isbn=isbn))
    expect(
        response.status_code == 409 and books.count_isbn(isbn) == 1,
        status_kind(response) if response.status_code != 409 else "duplicate-stored",
        f"POST /books with the ISBN of a book another copy of the service stored answered "
        f"{said(response)}; expected 409 Conflict: only the database knows every book.",
    )


@pytest.mark.check("duplicate_isbn_409")
def test_duplicate_isbn_on_patch_409(http, books):
    taken = books.create()
    other = books.create()
    url = f"/books/{other['id']}"
    # The whole book, so the answer depends on the ISBN alone.
    body = {field: other[field] for field in FIELDS} | {"isbn": taken["isbn"]}
    response = http.patch(url, json=body)
    expect(
        response.status_code == 409,
        status_kind(response),
        f"PATCH {url} with the ISBN of another book answered {said(response)}; expected "
        "409 Conflict.",
    )
    row = books.row(other["id"]) or {}
    expect(
        row.get("isbn") == other["isbn"],
        "duplicate-stored",
        f"PATCH {url} with the ISBN of another book answered 409, yet the book's ISBN is "
        f"now {row.get('isbn')!r}; expected it unchanged ({other['isbn']}).",
    )
    leak = leak_in(response)
    expect(
        leak is None,
        "leaks-internals",
        f"The 409 answer shows the client server internals ({leak!r}); expected a plain "
        "explanation, with no SQL and no stack trace.",
    )


RACERS = 4


@pytest.mark.check("duplicate_isbn_409")
def test_duplicate_isbn_race(base_url, books):
    """Clients adding the same book at the same moment: one 201, the others 409."""
    sent = books.payload()
    calls = [("POST", "/books", sent)] * RACERS
    with writes_held() as open_when:
        # Every request gets to read the table before any of them can insert.
        answers = at_once(base_url, calls, release=lambda: open_when(RACERS))
    codes = sorted(r.status_code if r is not None else 0 for r in answers)
    count = books.count_isbn(sent["isbn"])
    expect(
        all(c < 500 for c in codes) and 0 not in codes,
        "race-server-error",
        f"{RACERS} clients sent POST /books with the same new ISBN at the same moment; the "
        f"answers were {codes} (0: no answer). Expected one 201 Created and 409 Conflict "
        "for the others: looking for the ISBN first is not enough when both requests "
        "look before either inserts.",
    )
    expect(
        sum(200 <= c < 300 for c in codes) == 1 and codes.count(409) == RACERS - 1 and count == 1,
        "race-duplicate",
        f"{RACERS} clients sent POST /books with the same new ISBN at the same moment; the "
        f"answers were {codes} and {count} books now have that ISBN. Expected exactly one "
        "success (201 Created), 409 Conflict for the others, and one book.",
    )

"""A second book with the same ISBN answers 409 Conflict (RFC 9110, section 15.5.10)."""

import pytest
from _helpers import FIELDS, leak_in, said


def test_duplicate_isbn_409(http, books):
    first = books.create()
    isbn = first["isbn"]
    response = http.post("/books", json=books.payload(isbn=isbn, title="Another Book"))
    assert response.status_code == 409, (
        f"POST /books with an ISBN already in the catalog answered {said(response)}; "
        "expected 409 Conflict."
    )
    count = books.count_isbn(isbn)
    assert count == 1, (
        f"POST /books with an ISBN already in the catalog answered 409, yet {count} books "
        "now have that ISBN; expected exactly one."
    )
    leak = leak_in(response)
    assert leak is None, (
        f"The 409 answer shows the client server internals ({leak!r}); expected a plain "
        "explanation, with no SQL and no stack trace."
    )


@pytest.mark.check("duplicate_isbn_409")
def test_duplicate_isbn_on_patch_409(http, books):
    taken = books.create()
    other = books.create()
    url = f"/books/{other['id']}"
    # The whole book, so the answer depends on the ISBN alone.
    body = {field: other[field] for field in FIELDS} | {"isbn": taken["isbn"]}
    response = http.patch(url, json=body)
    assert response.status_code == 409, (
        f"PATCH {url} with the ISBN of another book answered {said(response)}; expected "
        "409 Conflict."
    )
    row = books.row(other["id"]) or {}
    assert row.get("isbn") == other["isbn"], (
        f"PATCH {url} with the ISBN of another book answered 409, yet the book's ISBN is "
        f"now {row.get('isbn')!r}; expected it unchanged ({other['isbn']})."
    )
    leak = leak_in(response)
    assert leak is None, (
        f"The 409 answer shows the client server internals ({leak!r}); expected a plain "
        "explanation, with no SQL and no stack trace."
    )

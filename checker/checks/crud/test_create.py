"""Creating a book and reading it back (RFC 9110, sections 9.3.3 and 15.3.2)."""

import httpx
from _helpers import FIELDS, json_of, said, shown


def test_create_then_read(http, books):
    for extra in ({"published_year": 1969}, {"published_year": None}):
        book = books.create(**extra)
        response = http.get(f"/books/{book['id']}")
        assert response.status_code == 200, (
            f"GET /books/{book['id']} for a book just created answered {said(response)}; "
            "expected 200 OK with the book."
        )
        got = json_of(response)
        assert isinstance(got, dict), (
            f"GET /books/{book['id']} answered a JSON {type(got).__name__}; expected the book "
            "as a JSON object."
        )
        changed = [
            f"{f} is {shown(got.get(f))}, sent {shown(book[f])}"
            for f in FIELDS
            if got.get(f) != book[f]
        ]
        assert not changed, (
            f"GET /books/{book['id']} answered a book that differs from the one sent: "
            f"{'; '.join(changed)}. Expected every field as it was sent."
        )


def test_create_returns_201(http, books):
    sent = books.payload()
    response = http.post("/books", json=sent)
    assert response.status_code == 201, (
        f"POST /books answered {said(response)}; expected 201 Created with a Location "
        "header pointing at the new book."
    )
    location = response.headers.get("location")
    assert location, (
        "POST /books answered 201 Created without a Location header; expected Location to "
        "give the URL of the new book."
    )
    target = response.url.join(location)
    try:
        fetched = http.get(target)
    except httpx.ConnectError:
        fetched = None
    assert fetched is not None, (
        f"The Location of the new book ({location}) points at a server that does not "
        "answer; expected a URL of this service (a relative one will do) for the new book."
    )
    assert fetched.status_code == 200, (
        f"The Location of the new book ({location}) answered {said(fetched)} to a GET; "
        "expected 200 OK with the book just created."
    )
    got = json_of(fetched, f"GET {location}")
    got_isbn = got.get("isbn") if isinstance(got, dict) else None
    assert got_isbn == sent["isbn"], (
        f"GET {location} answered a book with ISBN {got_isbn!r}; expected the book just "
        f"created (ISBN {sent['isbn']})."
    )

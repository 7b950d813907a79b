"""Creating a book and reading it back (RFC 9110, sections 9.3.3 and 15.3.2)."""

import httpx
from _helpers import FIELDS, json_of, said, shown, status_kind

from checker.verdict import expect, fail

#: Titles and authors a catalog really holds: accents, CJK, quotes, emoji, long ones.
TEXTS = [
    "Cien años de soledad",
    "三体",
    "L'Étranger",
    'The "Real" Story',
    "Ωmega 🚀 Journeys",
    "x" * 255,
    "Zoë Ó'Brien-Łukasiewicz",
]


def read(http, book_id, after):
    response = http.get(f"/books/{book_id}")
    expect(
        response.status_code == 200,
        status_kind(response),
        f"GET /books/{book_id} {after} answered {said(response)}; expected 200 OK with the book.",
    )
    got = json_of(response)
    expect(
        isinstance(got, dict),
        "not-json",
        f"GET /books/{book_id} answered a JSON {type(got).__name__}; expected the book "
        "as a JSON object.",
    )
    return got


def test_create_then_read(http, books, rng):
    probes = [
        {"published_year": 1969},
        {"published_year": None},
        {
            "title": rng.choice(TEXTS),
            "author": rng.choice(TEXTS),
            "price_cents": rng.randint(1, 10**6),
            "published_year": rng.randint(1450, 2025),
        },
    ]
    for extra in probes:
        book = books.create(**extra)
        got = read(http, book["id"], "for a book just created")
        changed = [
            f"{f} is {shown(got.get(f))}, sent {shown(book[f])}"
            for f in FIELDS
            if got.get(f) != book[f]
        ]
        expect(
            not changed,
            "read-differs",
            f"GET /books/{book['id']} answered a book that differs from the one sent: "
            f"{'; '.join(changed)}. Expected every field as it was sent.",
        )
        # What the answer says must be what the database holds, not a copy kept aside.
        row = books.row(book["id"]) or {}
        stored = [f"{f} is {shown(row.get(f))}" for f in FIELDS if row.get(f) != book[f]]
        expect(
            not stored,
            "not-stored",
            f"The database's row for book {book['id']} differs from what was sent "
            f"({'; '.join(stored) or 'no row at all'}); expected the book stored as sent.",
        )


def test_create_returns_201(http, books):
    sent = books.payload()
    response = http.post("/books", json=sent)
    expect(
        response.status_code == 201,
        status_kind(response),
        f"POST /books answered {said(response)}; expected 201 Created with a Location "
        "header pointing at the new book.",
    )
    location = response.headers.get("location")
    expect(
        location,
        "no-location",
        "POST /books answered 201 Created without a Location header; expected Location to "
        "give the URL of the new book.",
    )
    target = response.url.join(location)
    try:
        fetched = http.get(target)
    except httpx.ConnectError:
        fail(
            "location-unreachable",
            f"The Location of the new book ({location}) points at a server that does not "
            "answer; expected a URL of this service (a relative one will do) for the new book.",
        )
    expect(
        fetched.status_code == 200,
        "location-not-found",
        f"The Location of the new book ({location}) answered {said(fetched)} to a GET; "
        "expected 200 OK with the book just created.",
    )
    got = json_of(fetched, f"GET {location}")
    got_isbn = got.get("isbn") if isinstance(got, dict) else None
    expect(
        got_isbn == sent["isbn"],
        "location-other-book",
        f"GET {location} answered a book with ISBN {got_isbn!r}; expected the book just "
        f"created (ISBN {sent['isbn']}).",
    )

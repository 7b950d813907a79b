"""Helpers for the crud checks: fresh ISBNs, answers worded for the learner, the table.

The service is reached over HTTP only; the database is read (and, in the pagination
walk, written) with the run's own connection, so a check never relies on the service to
report what the service did. Checks share one service and one database: each makes its
own books with fresh ISBNs, finds them by ISBN or id, and never assumes the table is
empty. Failures name their kind (checker.verdict), so the learner gets the hint for the
mistake actually seen; probe values come from the seeded ``rng`` fixture.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from typing import Any

import httpx
import psycopg

from checker.verdict import fail

#: The fields a client sends for a book, as the README documents them.
FIELDS = ("title", "author", "isbn", "price_cents", "published_year")

#: An id no book will ever have in a run (ids start at 1 and count up).
MISSING_ID = 999_999_999

#: The largest value of a PostgreSQL integer: the README's bound for prices and ids.
PG_INT_MAX = 2_147_483_647

#: What a client must never see in an answer: it comes from the database or the server.
LEAK_MARKERS = (
    "insert into",
    "update book set",
    "duplicate key value",
    "integrityerror",
    "uniqueviolation",
    "psycopg",
    "sqlalchemy",
    "sqlalche.me",
    "[sql:",
    "[parameters:",
    "traceback (most recent call last)",
)

_rng = random.SystemRandom()


def isbn13_check_digit(first12: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def new_isbn() -> str:
    """A random valid ISBN-13 (978 prefix): unique enough for one run."""
    first12 = "978" + "".join(_rng.choice("0123456789") for _ in range(9))
    return first12 + isbn13_check_digit(first12)


def wrong_check_digit(isbn: str) -> str:
    return isbn[:12] + str((int(isbn[12]) + 1) % 10)


def said(response: httpx.Response) -> str:
    """How a message names an answer: '200 OK', '500 Internal Server Error'."""
    # RFC 9110's name for 422, whatever the server's (older) reason phrase says.
    phrase = "Unprocessable Content" if response.status_code == 422 else response.reason_phrase
    return f"{response.status_code} {phrase or ''}".strip()


def request_line(response: httpx.Response) -> str:
    """'POST /books', as the learner would write it."""
    request = response.request
    return f"{request.method} {request.url.raw_path.decode()}"


def shown(value: Any) -> str:
    """A value as JSON spells it: null, "text", 12."""
    return json.dumps(value)


def status_kind(response: httpx.Response) -> str:
    """The failure kind of an unexpected status: a crash, or a wrong answer."""
    return "server-error" if response.status_code >= 500 else "wrong-status"


def missing_ids(books: Books, rng: random.Random) -> list[int]:
    """Ids no book has, drawn per run: past the last id, and far past it."""
    top = books.query("SELECT coalesce(max(id), 0) FROM book")[0][0]
    return [top + rng.randint(1_000, 99_999), rng.randint(10**8, PG_INT_MAX)]


def json_of(response: httpx.Response, what: str | None = None) -> Any:
    """The JSON body, or a failure saying the answer was not JSON."""
    what = what or request_line(response)
    try:
        return response.json()
    except ValueError:
        snippet = response.text[:80].strip() or "an empty body"
        fail(
            "not-json",
            f"{what} answered {said(response)} with a body that is not JSON ({snippet!r}); "
            "expected a JSON document.",
        )


def leak_in(response: httpx.Response) -> str | None:
    """The first sign of server internals in a body, or None."""
    text = response.text.lower()
    for marker in LEAK_MARKERS:
        if marker in text:
            return marker
    return None


def next_link(response: httpx.Response) -> str | None:
    """The absolute URL of the Link rel="next" target (RFC 8288), or None."""
    for rel, link in response.links.items():
        if "next" in str(rel).lower().split():
            return str(response.url.join(link["url"]))
    return None


def problem_issue(response: httpx.Response) -> str | None:
    """What keeps an error answer from being RFC 9457 problem details, or None."""
    media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/problem+json":
        return f"its Content-Type is {media_type or 'missing'}, not application/problem+json"
    try:
        body = response.json()
    except ValueError:
        return "its body is not JSON"
    if not isinstance(body, dict):
        return "its body is not a JSON object"
    if body.get("status") != response.status_code:
        return f"its status member is {body.get('status')!r}, not {response.status_code}"
    for member in ("title", "detail"):
        value = body.get(member)
        if not isinstance(value, str) or not value.strip():
            return f"its {member} member is {value!r}, not a short text"
    other = STATUS_NAMED.get(body["title"].strip().lower())
    if other is not None and other != response.status_code:
        return (
            f"its title {body['title']!r} is the name of another status ({other}), which "
            f"misleads a client reading a {response.status_code}"
        )
    return None


#: Each status's name (RFC 9110's and the older ones Python still uses), lowercased.
STATUS_NAMED: dict[str, int] = {s.phrase.lower(): s.value for s in HTTPStatus} | {
    "unprocessable content": 422,
    "content too large": 413,
    "range not satisfiable": 416,
}


#: Books as a shop's catalog has them: each book a check creates is drawn per run from
#: these (with an ISBN and a price of its own), so no title, author or price marks a book
#: as the checks' own.
CATALOG = (
    ("The Left Hand of Darkness", "Ursula K. Le Guin", 1969), ("Kindred", "Octavia E. Butler", 1979),
    ("Middlemarch", "George Eliot", 1871), ("Solaris", "Stanisław Lem", 1961),
    ("Things Fall Apart", "Chinua Achebe", 1958), ("The Remains of the Day", "Kazuo Ishiguro", 1989),
    ("Pedro Páramo", "Juan Rulfo", 1955), ("The Master and Margarita", "Mikhail Bulgakov", 1967),
    ("Beloved", "Toni Morrison", 1987), ("Piranesi", "Susanna Clarke", 2020),
    ("The Name of the Rose", "Umberto Eco", 1980), ("Frankenstein", "Mary Shelley", 1818),
    ("Ficciones", "Jorge Luis Borges", 1944), ("Never Let Me Go", "Kazuo Ishiguro", 2005),
)  # fmt: skip


class Books:
    """The Books API as a check uses it, with the failures worded for the learner."""

    def __init__(self, http: httpx.Client, db: psycopg.Connection, rng) -> None:
        self.http = http
        self.db = db
        self.rng = rng

    def payload(self, **fields: Any) -> dict[str, Any]:
        title, author, year = self.rng.choice(CATALOG)
        body = {
            "title": title,
            "author": author,
            "isbn": new_isbn(),
            "price_cents": self.rng.randint(199, 5999),
            "published_year": year,
        }
        body.update(fields)
        return body

    def create(self, **fields: Any) -> dict[str, Any]:
        """POST a valid book; any 2xx will do. Returns the fields sent, plus its id."""
        sent = self.payload(**fields)
        response = self.http.post("/books", json=sent)
        if not response.is_success:
            fail(
                "create-failed",
                f"POST /books with a valid book answered {said(response)}; this check "
                "needs to create books first, so creating must work (201 Created).",
            )
        body = json_of(response)
        if not isinstance(body, dict) or not isinstance(body.get("id"), int):
            fail(
                "create-failed",
                f"POST /books answered {said(response)} without the new book's id in its "
                "JSON body; expected the created book, with its id.",
            )
        # What was sent is the truth a check compares with; the answer adds the id.
        return {**body, **sent}

    def items(self, response: httpx.Response) -> list[dict[str, Any]]:
        """The books on one page of GET /books (a JSON array, or under data/items)."""
        what = request_line(response)
        if response.status_code != 200:
            fail(
                status_kind(response),
                f"{what} answered {said(response)}; expected 200 OK with a page of books.",
            )
        body = json_of(response, what)
        if isinstance(body, dict):
            body = next((body[key] for key in ("data", "items", "results") if key in body), body)
        if not isinstance(body, list) or not all(
            isinstance(item, dict) and "id" in item for item in body
        ):
            fail(
                "not-a-list",
                f"{what} did not answer a JSON array of books; expected one, each with its id.",
            )
        return body

    # ------------------------------------------------ the table, read directly

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            with self.db.cursor() as cur:
                cur.execute(sql, tuple(params))
                return cur.fetchall() if cur.description else []
        except psycopg.errors.UndefinedTable:
            fail(
                "no-table",
                "The database has no table named book; expected the service to create "
                "it at start (app/main.py does, unless the Book model was renamed).",
            )
        return []  # unreachable: fail() raised

    def count_isbn(self, isbn: str) -> int:
        return self.query("SELECT count(*) FROM book WHERE isbn = %s", [isbn])[0][0]

    def count_all(self) -> int:
        return self.query("SELECT count(*) FROM book")[0][0]

    def all_ids(self) -> set[int]:
        return {row[0] for row in self.query("SELECT id FROM book")}

    def row(self, book_id: int) -> dict[str, Any] | None:
        rows = self.query(
            "SELECT title, author, isbn, price_cents, published_year FROM book WHERE id = %s",
            [book_id],
        )
        return dict(zip(FIELDS, rows[0], strict=True)) if rows else None

    def purge(self, *, isbns: Iterable[str] = (), ids: Iterable[int] = ()) -> None:
        """Remove rows a check made that no other check should trip over."""
        self.query(
            "DELETE FROM book WHERE isbn = ANY(%s) OR id = ANY(%s)", [list(isbns), list(ids)]
        )

    def ensure_at_least(self, n: int) -> None:
        """Fill the catalog up to n books, a few requests at a time to save the learner time."""
        missing = n - self.count_all()
        if missing > 0:
            with ThreadPoolExecutor(max_workers=4) as pool:
                list(pool.map(lambda _: self.create(title="Catalog filler"), range(missing)))

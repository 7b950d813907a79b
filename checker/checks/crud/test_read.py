"""A book that does not exist answers 404 Not Found (RFC 9110, section 15.5.5)."""

import pytest
from _helpers import missing_ids, said

from checker.verdict import expect

#: Ids beyond what the id column can hold: not a book either, and never a crash.
HUGE_IDS = ["99999999999999999999", "-1"]


def test_unknown_id_404(http, books, rng):
    calls = (("GET", None), ("PATCH", {"price_cents": 999}), ("DELETE", None))
    wrong, crashed = [], False
    for book_id in missing_ids(books, rng):
        for method, body in calls:
            response = http.request(method, f"/books/{book_id}", json=body)
            if response.status_code != 404:
                crashed |= response.status_code >= 500
                wrong.append(f"{method} /books/{book_id} answered {said(response)}")
    expect(
        not wrong,
        "server-error" if crashed else "wrong-status",
        f"For books that do not exist, {', '.join(wrong)}; expected 404 Not Found.",
    )
    for book_id in HUGE_IDS:
        for method, body in calls:
            response = http.request(method, f"/books/{book_id}", json=body)
            expect(
                response.status_code in (404, 422),
                "server-error" if response.status_code >= 500 else "wrong-status",
                f"{method} /books/{book_id} (no book can have that id) answered "
                f"{said(response)}; expected 404 Not Found (or 422 for an id out of range).",
            )


@pytest.mark.check("unknown_id_404")
def test_deleted_book_is_gone(http, books):
    book = books.create()
    url = f"/books/{book['id']}"
    first = http.delete(url)
    expect(
        first.is_success,
        "delete-failed",
        f"DELETE {url} of an existing book answered {said(first)}; expected it to succeed.",
    )
    for method, body in (("GET", None), ("PATCH", {"title": "Back again"}), ("DELETE", None)):
        again = http.request(method, url, json=body)
        expect(
            again.status_code == 404,
            "server-error" if again.status_code >= 500 else "wrong-status",
            f"{method} {url} after deleting that book answered {said(again)}; expected "
            "404 Not Found: the book is gone.",
        )

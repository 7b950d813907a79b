"""A book that does not exist answers 404 Not Found (RFC 9110, section 15.5.5)."""

import pytest
from _helpers import MISSING_ID, said


def test_unknown_id_404(http):
    calls = (("GET", None), ("PATCH", {"price_cents": 999}), ("DELETE", None))
    wrong = []
    for method, body in calls:
        response = http.request(method, f"/books/{MISSING_ID}", json=body)
        if response.status_code != 404:
            wrong.append(f"{method} answered {said(response)}")
    assert not wrong, (
        f"For a book that does not exist (/books/{MISSING_ID}), {', '.join(wrong)}; "
        "expected 404 Not Found."
    )


@pytest.mark.check("unknown_id_404")
def test_deleted_book_is_gone(http, books):
    book = books.create()
    url = f"/books/{book['id']}"
    first = http.delete(url)
    assert first.is_success, (
        f"DELETE {url} of an existing book answered {said(first)}; expected it to succeed."
    )
    again = http.get(url)
    assert again.status_code == 404, (
        f"GET {url} after deleting that book answered {said(again)}; expected 404 Not Found."
    )
    second = http.delete(url)
    assert second.status_code == 404, (
        f"A second DELETE {url} answered {said(second)}; expected 404 Not Found: the book "
        "is already gone."
    )

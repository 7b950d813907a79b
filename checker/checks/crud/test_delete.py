"""DELETE answers 204 No Content (RFC 9110, sections 9.3.5 and 15.3.5)."""

from _helpers import said


def test_delete_returns_204(http, books):
    book = books.create()
    url = f"/books/{book['id']}"
    response = http.delete(url)
    assert response.status_code == 204, (
        f"DELETE {url} answered {said(response)}; expected 204 No Content."
    )
    assert response.content == b"", (
        f"DELETE {url} answered 204 No Content with a body of {len(response.content)} "
        "bytes; expected no body at all."
    )
    left = books.count_isbn(book["isbn"])
    assert left == 0, (
        f"DELETE {url} answered 204, yet the book is still in the database; expected it to be gone."
    )

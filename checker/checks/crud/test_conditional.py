"""Bonus: conditional requests (RFC 9110, section 13): ETag, If-None-Match, If-Match."""

from _helpers import FIELDS, said


def test_conditional_requests(http, books):
    book = books.create(price_cents=2000)
    url = f"/books/{book['id']}"
    first = http.get(url)
    etag = first.headers.get("etag")
    assert first.status_code == 200 and etag, (
        f"GET {url} answered {said(first)} without an ETag header; expected an ETag that "
        "identifies this version of the book."
    )

    cached = http.get(url, headers={"If-None-Match": etag})
    assert cached.status_code == 304, (
        f"GET {url} with If-None-Match set to its own ETag answered {said(cached)}; expected "
        "304 Not Modified: the client's copy is current."
    )
    assert cached.content == b"", f"GET {url} answered 304 Not Modified with a body; expected none."

    whole = {field: book[field] for field in FIELDS}
    if not etag.startswith("W/"):  # If-Match compares strongly: a weak tag never matches
        fresh = http.patch(url, json=whole | {"price_cents": 2100}, headers={"If-Match": etag})
        assert fresh.status_code == 200, (
            f"PATCH {url} with If-Match set to the current ETag answered {said(fresh)}; "
            "expected 200 OK: nobody changed the book in between."
        )
        changed = http.get(url).headers.get("etag")
        assert changed and changed != etag, (
            f"After a PATCH changed the book, GET {url} still answers ETag {changed}; "
            "expected a new ETag for the new version."
        )
    current = books.row(book["id"])
    stale = http.patch(url, json=whole | {"price_cents": 2500}, headers={"If-Match": etag})
    assert stale.status_code == 412, (
        f"PATCH {url} with If-Match set to an ETag the book no longer has answered "
        f"{said(stale)}; expected 412 Precondition Failed, so a stale edit cannot "
        "overwrite a newer one."
    )
    assert books.row(book["id"]) == current, (
        f"PATCH {url} with a stale If-Match answered 412 but changed the book anyway; "
        "expected it left as it was."
    )

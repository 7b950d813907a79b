"""Bonus: conditional requests (RFC 9110, section 13): ETag, If-None-Match, If-Match."""

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from _helpers import FIELDS, json_of, said

from checker.verdict import expect


def current_etag(http, url: str) -> str:
    response = http.get(url)
    etag = response.headers.get("etag")
    expect(
        response.status_code == 200 and bool(etag),
        "no-etag",
        f"GET {url} answered {said(response)} without an ETag header; expected an ETag that "
        "identifies this version of the book.",
    )
    return etag


def test_conditional_requests(http, books, rng):
    book = books.create(price_cents=rng.randint(1000, 5000))
    url = f"/books/{book['id']}"
    etag = current_etag(http, url)

    cached = http.get(url, headers={"If-None-Match": etag})
    expect(
        cached.status_code == 304,
        "not-304",
        f"GET {url} with If-None-Match set to its own ETag answered {said(cached)}; expected "
        "304 Not Modified: the client's copy is current.",
    )
    expect(
        cached.content == b"",
        "304-with-body",
        f"GET {url} answered 304 Not Modified with a body; expected none.",
    )

    # Write, then re-read: the ETag must follow the book, not the first answer.
    whole = {field: book[field] for field in FIELDS}
    new_price = book["price_cents"] + rng.randint(1, 999)
    strong = not etag.startswith("W/")  # If-Match compares strongly: a weak tag never matches
    headers = {"If-Match": etag} if strong else {}
    fresh = http.patch(url, json=whole | {"price_cents": new_price}, headers=headers)
    expect(
        fresh.status_code == 200,
        "if-match-refused",
        f"PATCH {url} {'with If-Match set to the current ETag ' if strong else ''}answered "
        f"{said(fresh)}; expected 200 OK: nobody changed the book in between.",
    )
    changed = http.get(url).headers.get("etag")
    expect(
        bool(changed) and changed != etag,
        "etag-unchanged",
        f"After a PATCH changed the book, GET {url} still answers ETag {changed}; "
        "expected a new ETag for the new version.",
    )
    stale_read = http.get(url, headers={"If-None-Match": etag})
    body = json_of(stale_read) if stale_read.status_code == 200 else {}
    price = body.get("price_cents") if isinstance(body, dict) else None
    expect(
        stale_read.status_code == 200 and price == new_price,
        "stale-not-modified",
        f"After a PATCH changed the price to {new_price}, GET {url} with If-None-Match set "
        f"to the ETag from before answered {said(stale_read)}"
        f"{f' with price_cents {price}' if body else ''}; expected 200 OK with the new "
        "book: the client's copy is out of date, so it needs the new one.",
    )

    current = books.row(book["id"])
    stale = http.patch(url, json=whole | {"price_cents": new_price + 1}, headers={"If-Match": etag})
    expect(
        stale.status_code == 412,
        "stale-accepted",
        f"PATCH {url} with If-Match set to an ETag the book no longer has answered "
        f"{said(stale)}; expected 412 Precondition Failed, so a stale edit cannot "
        "overwrite a newer one.",
    )
    expect(
        books.row(book["id"]) == current,
        "stale-changed",
        f"PATCH {url} with a stale If-Match answered 412 but changed the book anyway; "
        "expected it left as it was.",
    )


@pytest.mark.check("conditional_requests")
def test_if_match_race(base_url, http, books, locks, rng):
    """Two editors with the same current ETag at the same moment: one edit lands, the
    other is stale by then. The checker holds the book's row until both requests wait
    for it, so both have read the book before either writes, on every run."""
    book = books.create(price_cents=rng.randint(1000, 5000))
    url = f"/books/{book['id']}"
    etag = current_etag(http, url)
    if etag.startswith("W/"):
        return  # a weak ETag never matches If-Match: test_conditional_requests covers it
    prices = rng.sample(range(book["price_cents"] + 1, book["price_cents"] + 5000), 2)

    def patch(price: int) -> int:
        with httpx.Client(base_url=base_url, timeout=20) as client:
            try:
                return client.patch(
                    url, json={"price_cents": price}, headers={"If-Match": etag}
                ).status_code
            except httpx.HTTPError:
                return 0

    with (
        locks.gate("SELECT 1 FROM book WHERE id = %s FOR UPDATE", [book["id"]], waiters=2) as gate,
        ThreadPoolExecutor(max_workers=2) as pool,
    ):
        futures = [pool.submit(patch, price) for price in prices]
        gate.release()
        codes = [f.result() for f in futures]
    stored = (books.row(book["id"]) or {}).get("price_cents")
    what = (
        f"Two clients sent PATCH {url} at the same moment, each with another price and "
        f"both with If-Match set to the book's current ETag; the answers were "
        f"{codes} (0: no answer) and the stored price is {stored}."
    )
    expect(
        all(0 < c < 500 for c in codes),
        "race-server-error",
        f"{what} Expected one 200 OK and 412 Precondition Failed for the other, never a crash.",
    )
    winners = [p for p, c in zip(prices, codes, strict=True) if c == 200]
    expect(
        sorted(codes) == [200, 412] and stored == winners[0],
        "lost-update",
        f"{what} Expected one 200 OK, whose price is stored, and 412 Precondition Failed "
        "for the other: once one edit lands, the other's ETag is stale. Comparing the "
        "ETag and writing in two separate steps lets both through, and the first edit is "
        "silently overwritten.",
    )

"""Payloads are bounded: the list endpoint answers one page, never the whole catalog."""

from __future__ import annotations

import httpx

MAX_PAGE = 100
DEFAULT_PAGE = 20


def _page(http: httpx.Client, params: dict) -> tuple[int, list | None, int]:
    response = http.get("/books", params=params)
    size = len(response.content)
    if response.status_code != 200:
        return response.status_code, None, size
    try:
        body = response.json()
    except ValueError:
        return response.status_code, None, size
    if isinstance(body, dict):
        body = next((body[k] for k in ("data", "items", "results") if k in body), body)
    return 200, body if isinstance(body, list) else None, size


def test_list_is_bounded(http: httpx.Client, measure, rng):
    http.timeout = httpx.Timeout(30)
    status, books, size = _page(http, {})
    first = books or []
    assert status == 200 and books is not None, (
        f"GET /books answered {status}; expected 200 OK with a JSON array of books."
    )
    measure("default_page_books", len(books))
    measure("default_page_bytes", size)
    assert books, "GET /books answered an empty list; the catalog has 5,000 books."
    assert len(books) <= MAX_PAGE, (
        f"GET /books answered {len(books)} books ({size / 1024:.0f} KB) in one response; "
        f"expected one page of at most {MAX_PAGE}, with the rest a request away."
    )
    # Limits past the maximum, drawn per run: just past it, and far past it.
    for limit in (MAX_PAGE + rng.randint(1, 50), rng.randint(1000, 5000)):
        status, books, size = _page(http, {"limit": limit})
        measure(f"limit_{limit}_books", len(books) if books is not None else None)
        assert status in (200, 400, 422), (
            f"GET /books?limit={limit} answered {status}; expected a page of at most "
            f"{MAX_PAGE} books, or 422 to say the limit is too large."
        )
        if status == 200:
            assert books is not None and len(books) <= MAX_PAGE, (
                f"GET /books?limit={limit} answered {len(books or [])} books; a client must "
                f"not be able to ask for more than {MAX_PAGE} at once (answer 422, or cap the "
                "page)."
            )
    # The README's page: 20 books by default, in id order from the first; and limits
    # below one are refused, never a database error.
    assert len(first) == DEFAULT_PAGE, (
        f"GET /books answered {len(first)} books; the README's default page has {DEFAULT_PAGE}."
    )
    status, explicit, _ = _page(http, {"offset": 0, "limit": DEFAULT_PAGE})
    ids = [b.get("id") for b in first if isinstance(b, dict)]
    assert ids == sorted(ids) and explicit == first, (
        f"GET /books answered the books {ids[:5]}...; expected the first page in id order, "
        f"the same as GET /books?offset=0&limit={DEFAULT_PAGE}"
    )
    for limit in (0, -rng.randint(1, 1000)):
        status, _, _ = _page(http, {"limit": limit})
        assert status in (200, 400, 422), (
            f"GET /books?limit={limit} answered {status}; expected 422: a limit below one "
            "asks for nothing sensible, and must never reach the database as it is."
        )

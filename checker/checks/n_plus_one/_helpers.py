"""Helpers for the n-plus-one checks: the reference page, read straight from the
database, and short descriptions of what the service did, for messages.

The catalog is the seed's (checker/checks/n_plus_one/seed.sql): 300 authors with 0 to 6
books each, 0 to 10 reviews per book. One check writes (a title, reviews, a book) and
reads again; every reference is computed from the database as it is at that moment, and
the pages asked for are drawn per run (the ``rng`` fixture).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import psycopg

#: Pages the checks ask for start after this author, where every page has books.
AFTER = 40


def reference_page(db: psycopg.Connection, *, limit: int, after: int) -> dict[str, Any]:
    """What GET /authors?limit=&after= must answer, computed by the checker in SQL."""
    rows = db.execute(
        """
        WITH page AS (SELECT id, name FROM author WHERE id > %s ORDER BY id LIMIT %s)
        SELECT p.id, p.name, b.id, b.title, round(avg(r.rating), 2), count(r.id)
        FROM page AS p
        LEFT JOIN book AS b ON b.author_id = p.id
        LEFT JOIN review AS r ON r.book_id = b.id
        GROUP BY p.id, p.name, b.id, b.title
        ORDER BY p.id, b.id
        """,
        (after, limit),
    ).fetchall()
    items: list[dict[str, Any]] = []
    for author_id, name, book_id, title, avg, count in rows:
        if not items or items[-1]["id"] != author_id:
            items.append({"id": author_id, "name": name, "books": []})
        if book_id is not None:
            items[-1]["books"].append({
                "id": book_id,
                "title": title,
                "avg_rating": float(avg) if isinstance(avg, Decimal) else avg,
                "review_count": count,
            })  # fmt: skip
    last = items[-1]["id"] if items else after
    more = db.execute("SELECT EXISTS (SELECT 1 FROM author WHERE id > %s)", (last,)).fetchone()[0]
    return {"items": items, "next_after": last if items and more else None}


def get_page(http: httpx.Client, *, limit: int, after: int = AFTER) -> dict[str, Any]:
    """GET /authors and its JSON body; a failure message if it does not answer 200."""
    response = http.get("/authors", params={"limit": limit, "after": after})
    assert response.status_code == 200, (
        f"GET /authors?limit={limit}&after={after} should answer 200 OK with a page of "
        f"authors; it answered {response.status_code}: {response.text[:300]}"
    )
    return response.json()


def books_on(page: dict[str, Any]) -> int:
    return sum(len(author.get("books", [])) for author in page.get("items", []))

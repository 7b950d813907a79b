"""The page is right: the authors, books and ratings the reference computes in SQL."""

from __future__ import annotations

import httpx
import psycopg
import pytest
from _helpers import get_page, reference_page

from checker.verdict import expect

PAGES = [(5, 40), (50, 100), (20, 290)]


def _first_difference(got: dict, want: dict) -> str:
    got_items, want_items = got.get("items"), want["items"]
    if not isinstance(got_items, list):
        return "the body has no list of authors under 'items'"
    got_ids = [a.get("id") for a in got_items]
    want_ids = [a["id"] for a in want_items]
    if got_ids != want_ids:
        return f"the authors on the page are {got_ids[:12]}, expected {want_ids[:12]}"
    for g, w in zip(got_items, want_items, strict=True):
        books = g.get("books") or []
        ids = [b.get("id") for b in books]
        if len(ids) != len(set(ids)):
            dup = next(i for i in ids if ids.count(i) > 1)
            return (
                f"author {w['id']} lists book {dup} {ids.count(dup)} times: each book "
                "should appear once"
            )
        if ids != [b["id"] for b in w["books"]]:
            return f"author {w['id']} has books {ids}, expected {[b['id'] for b in w['books']]}"
        if g.get("name") != w["name"]:
            return f"author {w['id']} is named {g.get('name')!r}, expected {w['name']!r}"
        for gb, wb in zip(books, w["books"], strict=True):
            if gb.get("review_count") != wb["review_count"]:
                return (
                    f"book {wb['id']} has review_count {gb.get('review_count')}, expected "
                    f"{wb['review_count']}"
                )
            ga, wa = gb.get("avg_rating"), wb["avg_rating"]
            # 2 decimals, rounded either way (Python rounds 3.125 to 3.12, SQL to 3.13).
            if (ga is None) != (wa is None) or (wa is not None and abs(ga - wa) > 0.011):
                return f"book {wb['id']} has avg_rating {ga}, expected {wa}"
            if ga is not None and abs(ga * 100 - round(ga * 100)) > 1e-6:
                return (
                    f"book {wb['id']} has avg_rating {ga}, expected {wa}: the mean with 2 decimals"
                )
            if gb.get("title") != wb["title"]:
                return f"book {wb['id']} has title {gb.get('title')!r}, expected {wb['title']!r}"
    if got.get("next_after") != want["next_after"]:
        return f"next_after is {got.get('next_after')!r}, expected {want['next_after']!r}"
    return ""


def test_response_matches_reference(http: httpx.Client, db: psycopg.Connection, rng):
    pages = [*PAGES, (rng.randint(3, 30), rng.randint(0, 280))]
    for limit, after in pages:
        got = get_page(http, limit=limit, after=after)
        difference = _first_difference(got, reference_page(db, limit=limit, after=after))
        expect(
            not difference, "wrong-page", f"GET /authors?limit={limit}&after={after}: {difference}."
        )


@pytest.mark.check("response_matches_reference")
def test_page_after_writes(http: httpx.Client, db: psycopg.Connection, rng):
    """Write, then re-read: a page answered from a copy taken earlier, or in the order the
    rows happen to lie on disk, shows its age once the catalog changes."""
    limit, after = rng.randint(5, 15), rng.randint(0, 250)
    get_page(http, limit=limit, after=after)  # whatever a service keeps, it has it now
    authors = [a["id"] for a in reference_page(db, limit=limit, after=after)["items"]]
    with_books = db.execute(
        "SELECT author_id, min(id) FROM book WHERE author_id = ANY(%s) GROUP BY author_id"
        " HAVING count(*) > 1 ORDER BY author_id",
        (authors,),
    ).fetchall()
    author, book = with_books[0]
    # An UPDATE writes a new row version at the end of the table: the first book of an
    # author now lies on disk after its others. A new review changes a rating; a new
    # book joins an author's list.
    db.execute("UPDATE book SET title = title || ' (revised)' WHERE id = %s", (book,))
    db.execute("INSERT INTO review (book_id, rating) VALUES (%s, 5), (%s, 1)", (book, book))
    db.execute(
        "INSERT INTO book (title, author_id) VALUES (%s, %s)",
        (f"A New Volume {rng.randint(1, 999)}", authors[-1]),
    )
    got = get_page(http, limit=limit, after=after)
    difference = _first_difference(got, reference_page(db, limit=limit, after=after))
    expect(
        not difference,
        "stale-after-write",
        f"After a book's title changed, it got new reviews and another book was added, "
        f"GET /authors?limit={limit}&after={after}: {difference}. Expected the page as the "
        "database holds it now, books in id order.",
    )

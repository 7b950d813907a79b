"""What the database did for one page, from pg_stat_statements of this run's database:
how many statements, which tables they read, how many rows they sent back."""

from __future__ import annotations

import re

import httpx
import psycopg
import pytest
from _helpers import books_on, get_page

from checker.observe.postgres import StatementLog, Statements
from checker.verdict import expect, fail

pytestmark = pytest.mark.usefixtures("warm")


def test_statements_constant(http: httpx.Client, statements: StatementLog, measure, note, rng):
    # Where each page starts is drawn per run: a service can't answer known pages from
    # a copy and every other page the slow way.
    counts = {}
    captured = {}
    for n in (5, 50):
        after = rng.randint(0, 240)
        with statements.capture() as got:
            page = get_page(http, limit=n, after=after)
        expect(
            len(page.get("items", [])) == n,
            "wrong-page",
            f"GET /authors?limit={n}&after={after} should list {n} authors",
        )
        counts[n], captured[n] = got.calls, got
    measure("statements_at_5", counts[5])
    measure("statements_at_50", counts[50])
    note(f"statements per request: {counts[5]} at 5 authors, {counts[50]} at 50")
    expect(
        counts[5] == counts[50],
        "grows-with-page",
        f"A page of 5 authors cost {counts[5]} SQL statements, a page of 50 cost "
        f"{counts[50]}: the cost grows with the page, the N+1 pattern. Most repeated at "
        f"50: {captured[50].describe(2)}.",
    )
    expect(
        counts[50] <= 3,
        "too-many",
        f"A page costs {counts[50]} SQL statements whatever its size; at most 3 are "
        f"needed (authors, their books, their ratings). Seen: {captured[50].describe(4)}.",
    )


def test_ratings_in_database(
    http: httpx.Client, db: psycopg.Connection, statements: StatementLog, measure, rng
):
    after = rng.randint(0, 260)
    with statements.capture() as got:
        page = get_page(http, limit=20, after=after)
    books, authors = books_on(page), len(page.get("items", []))
    reviews = got.touching("review")
    measure("review_statements", reviews.calls)
    measure("review_rows", reviews.rows)
    expect(
        reviews.calls <= 2,
        "query-per-book",
        f"A page of {authors} authors and {books} books read the review table in "
        f"{reviews.calls} statements: about one per book. Expected one (or two) for the "
        f"whole page. Most repeated: {reviews.describe(1)}.",
    )
    if reviews.rows <= books + authors + 1:
        return
    # Too many rows: tell the two causes apart before blaming one.
    aggregated = any(re.search(r"\b(avg|count)\s*\(", s.query, re.I) for s in reviews)
    reviewed = db.execute("SELECT count(DISTINCT book_id) FROM review").fetchone()[0]
    if aggregated:
        fail(
            "whole-catalog",
            f"The ratings were computed in the database, but for more books than the page "
            f"shows: the statements reading reviews sent {reviews.rows} rows back for "
            f"{books} books on the page ({reviewed} books of the whole catalog have "
            "reviews). Expected one row per book of the page: restrict the grouped query "
            "to the page's books.",
        )
    fail(
        "reviews-to-python",
        f"The statements reading reviews sent {reviews.rows} rows back for {books} books: "
        "every review travelled to Python to be averaged there. Expected about one row "
        "per book, with the average and count computed by the database.",
    )


def test_rows_fit_the_page(http: httpx.Client, statements: StatementLog, measure, rng):
    after = rng.randint(0, 280)
    with statements.capture() as got:
        page = get_page(http, limit=5, after=after)
    books, authors = books_on(page), len(page.get("items", []))
    bound = 3 * (authors + books) + 2
    measure("rows", got.rows)
    biggest = Statements(sorted(got, key=lambda s: -s.rows)[:1])
    expect(
        got.rows <= bound,
        "too-many-rows",
        f"A page of {authors} authors and {books} books made the database send "
        f"{got.rows} rows; the page needs at most about {bound}. The biggest: "
        f"{biggest.describe(1)} sent {biggest.rows} rows.",
    )

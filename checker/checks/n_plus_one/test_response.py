"""The page is right: the authors, books and ratings the reference computes in SQL."""

from __future__ import annotations

import httpx
import psycopg
from _helpers import get_page, reference_page

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
            if gb.get("title") != wb["title"]:
                return f"book {wb['id']} has title {gb.get('title')!r}, expected {wb['title']!r}"
    if got.get("next_after") != want["next_after"]:
        return f"next_after is {got.get('next_after')!r}, expected {want['next_after']!r}"
    return ""


def test_response_matches_reference(http: httpx.Client, db: psycopg.Connection):
    for limit, after in PAGES:
        got = get_page(http, limit=limit, after=after)
        difference = _first_difference(got, reference_page(db, limit=limit, after=after))
        assert not difference, f"GET /authors?limit={limit}&after={after}: {difference}."

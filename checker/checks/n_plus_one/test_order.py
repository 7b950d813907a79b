"""GET /orders/{id}: an order with its items and their book titles."""

from __future__ import annotations

import httpx
import psycopg
import pytest

from checker.observe.postgres import StatementLog

pytestmark = pytest.mark.usefixtures("warm")

#: Order n has n % 41 items, each a different book (the seed).
SMALL, LARGE = 3, 30


def _reference(db: psycopg.Connection, order_id: int) -> list[dict]:
    rows = db.execute(
        "SELECT i.book_id, b.title, i.quantity FROM order_item AS i"
        " JOIN book AS b ON b.id = i.book_id WHERE i.order_id = %s ORDER BY i.id",
        (order_id,),
    ).fetchall()
    return [{"book_id": b, "title": t, "quantity": q} for b, t, q in rows]


def test_order_statements_constant(
    http: httpx.Client, db: psycopg.Connection, statements: StatementLog, measure, note
):
    counts, seen = {}, {}
    for order_id in (SMALL, LARGE):
        with statements.capture() as got:
            response = http.get(f"/orders/{order_id}")
        assert response.status_code == 200, (
            f"GET /orders/{order_id} should answer 200 OK with the order; it answered "
            f"{response.status_code}: {response.text[:300]}"
        )
        items = response.json().get("items")
        want = _reference(db, order_id)
        assert items == want, (
            f"GET /orders/{order_id} should list its {len(want)} items in order, each with "
            f"its book's title; it listed {items if items is None else len(items)}"
            + ("" if not isinstance(items, list) or not items else f", first {items[0]}")
        )
        counts[order_id], seen[order_id] = got.calls, got
    measure(f"statements_at_{SMALL}_items", counts[SMALL])
    measure(f"statements_at_{LARGE}_items", counts[LARGE])
    note(f"statements per request: {counts[SMALL]} at {SMALL} items, {counts[LARGE]} at {LARGE}")
    assert counts[SMALL] == counts[LARGE], (
        f"An order of {SMALL} items cost {counts[SMALL]} SQL statements, one of {LARGE} "
        f"items cost {counts[LARGE]}: one more per item, the N+1 pattern. Most repeated: "
        f"{seen[LARGE].describe(2)}."
    )
    assert counts[LARGE] <= 3, (
        f"An order costs {counts[LARGE]} SQL statements whatever its size; 2 or 3 are "
        f"enough. Seen: {seen[LARGE].describe(4)}."
    )

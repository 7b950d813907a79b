"""GET /orders/{id}: an order with its items and their book titles."""

from __future__ import annotations

import httpx
import psycopg
import pytest

from checker.observe.postgres import StatementLog

pytestmark = pytest.mark.usefixtures("warm")

#: Order n has n % 41 items, each a different book (the seed): sizes drawn per run.
SMALLS = [n for n in range(1, 101) if 1 <= n % 41 <= 5]
LARGES = [n for n in range(1, 101) if 25 <= n % 41 <= 40]


def _reference(db: psycopg.Connection, order_id: int) -> list[dict]:
    rows = db.execute(
        "SELECT i.book_id, b.title, i.quantity FROM order_item AS i"
        " JOIN book AS b ON b.id = i.book_id WHERE i.order_id = %s ORDER BY i.id",
        (order_id,),
    ).fetchall()
    return [{"book_id": b, "title": t, "quantity": q} for b, t, q in rows]


def test_order_statements_constant(
    http: httpx.Client, db: psycopg.Connection, statements: StatementLog, measure, note, rng
):
    SMALL, LARGE = rng.choice(SMALLS), rng.choice(LARGES)  # noqa: N806
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
    small, large = SMALL % 41, LARGE % 41
    measure("statements_at_small_order", counts[SMALL])
    measure("statements_at_large_order", counts[LARGE])
    note(f"statements per request: {counts[SMALL]} at {small} items, {counts[LARGE]} at {large}")
    assert counts[SMALL] == counts[LARGE], (
        f"An order of {small} items cost {counts[SMALL]} SQL statements, one of {large} "
        f"items cost {counts[LARGE]}: one more per item, the N+1 pattern. Most repeated: "
        f"{seen[LARGE].describe(2)}."
    )
    assert counts[LARGE] <= 3, (
        f"An order costs {counts[LARGE]} SQL statements whatever its size; 2 or 3 are "
        f"enough. Seen: {seen[LARGE].describe(4)}."
    )

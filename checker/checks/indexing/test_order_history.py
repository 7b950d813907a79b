"""GET /orders: the whole history, paged. Page 501 must cost what page 1 costs.

The check walks the history with the service's own cursors (big pages to get deep
fast), then asks for a page of 20 at row 10 000 and for the first page of 20, captures
the statement each request really ran and compares their plans by rows read: OFFSET
reads and discards every row before the page; a keyset condition starts right at it.
"""

from __future__ import annotations

import base64
import datetime as dt

import httpx
import psycopg
import pytest
from _helpers import seq_scans

from checker.observe.postgres import Plan, Statement, StatementLog, explain_captured
from checker.verdict import expect

PAGE = 20  # the pages compared
STRIDE = 500  # the page size used to walk to the deep one
DEPTH = 10_000  # rows before the deep page: page 501 of 20
#: Rows a page may read: the page and a little slack (a row past the end, a tie).
MAX_READ = 3 * PAGE

EXPECTED_IDS = "SELECT id FROM orders ORDER BY created_at DESC, id DESC LIMIT %s"


def _page(http: httpx.Client, limit: int, cursor: str | None) -> dict:
    params: dict = {"limit": limit}
    if cursor is not None:
        params["cursor"] = cursor
    response = http.get("/orders", params=params)
    asked = f"GET /orders?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
    assert response.status_code == 200, (
        f"{asked} should answer 200 OK; it answered {response.status_code}: {response.text[:300]}"
    )
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("orders"), list), (
        f"{asked} should answer {{'orders': [...], 'next_cursor': ...}}; it answered "
        f"{response.text[:200]}"
    )
    assert len(body["orders"]) == limit and body.get("next_cursor"), (
        f"{asked} gave {len(body['orders'])} orders and next_cursor="
        f"{body.get('next_cursor')!r}; a page in the middle of a million orders should "
        f"hold {limit} orders and a cursor to the next page."
    )
    return body


def _captured(
    statements: StatementLog, http: httpx.Client, limit: int, cursor: str | None
) -> tuple[dict, Statement]:
    _page(http, limit, cursor)  # warms the connection and the caches
    with statements.capture() as got:
        body = _page(http, limit, cursor)
    reading = [s for s in got.touching("orders") if s.verb in ("SELECT", "WITH")]
    assert reading, (
        f"GET /orders answered, but no SQL statement of the service read the orders table "
        f"(seen: {got.describe(3) or 'none'}). The page must come from the database."
    )
    return body, max(reading, key=lambda s: s.total_ms)


def _explain(db: psycopg.Connection, statement: Statement, last: dict | None, offset: int) -> Plan:
    """The plan of a page's statement with the values the request carried: the page size,
    and the position the page starts after (as an offset, or as the last row's key)."""
    values: list = []
    if last is not None:
        values.append(dt.datetime.fromisoformat(last["created_at"]))
    values += [PAGE, offset]
    if last is not None:
        values.append(last["id"])
    return explain_captured(db, statement, values, expect_rows=PAGE)


def test_order_history_keyset_paged(
    http: httpx.Client, db: psycopg.Connection, statements: StatementLog, measure, note
):
    _, first_stmt = _captured(statements, http, PAGE, None)
    first = _explain(db, first_stmt, None, 0)
    first_read = first.rows_read("orders")
    measure("first_page_rows_read", first_read)
    measure("first_page_pages", first.buffers)
    assert first_read <= MAX_READ and not seq_scans(first, "orders"), (
        f"The first page of GET /orders reads {first_read:,} rows of orders to return "
        f"{PAGE}: no index hands the orders over newest first, so PostgreSQL reads and "
        f"sorts the whole table for every page. An index on the ORDER BY columns "
        f"(created_at, id) lets it read just the page. Its plan:\n{first.render()}"
    )

    # Walk to row DEPTH with the service's own cursors, keeping every id seen.
    seen: list[int] = []
    cursor = None
    last: dict = {}
    while len(seen) < DEPTH:
        body = _page(http, STRIDE, cursor)
        seen += [o["id"] for o in body["orders"]]
        last, cursor = body["orders"][-1], body["next_cursor"]
    deep_body, deep_stmt = _captured(statements, http, PAGE, cursor)
    seen += [o["id"] for o in deep_body["orders"]]
    expected = [r[0] for r in db.execute(EXPECTED_IDS, (DEPTH + PAGE,)).fetchall()]
    if seen != expected:
        where = next(i for i, (a, b) in enumerate(zip(seen, expected, strict=False)) if a != b)
        raise AssertionError(
            f"Walking GET /orders page by page with next_cursor went wrong at row {where + 1:,}: "
            f"order {seen[where]} where order {expected[where]} belongs (newest first, by "
            f"created_at then id). A cursor must resume exactly after the last row of its page: "
            f"no row skipped, none repeated."
        )

    deep = _explain(db, deep_stmt, last, DEPTH)
    deep_read = deep.rows_read("orders")
    ratio = deep_read / max(first_read, 1)
    measure("deep_page_rows_read", deep_read)
    measure("deep_page_pages", deep.buffers)
    measure("ratio", round(ratio, 1))
    note(
        f"page {DEPTH // PAGE + 1} read {deep_read} rows ({deep.buffers} pages), the first "
        f"page {first_read} rows ({first.buffers} pages)"
    )
    if deep_read <= MAX_READ:
        return
    filtered = sum(n.removed_rows * max(n.loops, 1) for n in deep.scans("orders"))
    if filtered >= DEPTH / 2:
        raise AssertionError(
            f"Page {DEPTH // PAGE + 1} of GET /orders (rows {DEPTH + 1:,} to {DEPTH + PAGE:,}) "
            f"reads {deep_read:,} rows of orders, the first page {first_read}: the index scan "
            f"starts at the newest order and a filter throws away {filtered:,.0f} rows before "
            f"the page. The cursor's condition is checked row by row instead of telling the "
            f"index where to start: an OR of comparisons cannot bound an index scan. Write it "
            f"as one row comparison, (created_at, id) < (:created_at, :id), or add "
            f"created_at <= :created_at beside the OR. Its plan:\n{deep.render()}"
        )
    raise AssertionError(
        f"Page {DEPTH // PAGE + 1} of GET /orders (rows {DEPTH + 1:,} to {DEPTH + PAGE:,}) "
        f"reads {deep_read:,} rows of orders and touches {deep.buffers} pages; the first page "
        f"reads {first_read} rows and touches {first.buffers}: {ratio:,.0f}x the work for "
        f"the same {PAGE} rows, and every page deeper costs more. OFFSET makes PostgreSQL "
        f"read every row before the page and throw it away. Keyset pagination makes the "
        f"cursor the last row's sort key and starts the next page right after it: "
        f"WHERE (created_at, id) < (:created_at, :id) ORDER BY created_at DESC, id DESC "
        f"LIMIT :limit. Its plan:\n{deep.render()}"
    )


@pytest.mark.check("order_history_keyset_paged")
def test_order_history_ties(http: httpx.Client, db: psycopg.Connection, rng):
    """Orders placed in the same instant: only the tiebreaker (id) orders them, and a
    cursor that carries created_at alone skips or repeats them at a page's edge."""
    ties = rng.randint(9, 15)
    db.execute(
        "INSERT INTO orders (customer_id, status, created_at, total_cents)"
        " SELECT 1, 'pending', timestamptz '2030-01-01 12:00:00+00', 1000"
        " FROM generate_series(1, %s)",
        (ties,),
    )
    limit = rng.choice([3, 4, 5])
    seen: list[int] = []
    cursor = None
    while len(seen) < ties + limit:
        body = _page(http, limit, cursor)
        seen += [o["id"] for o in body["orders"]]
        cursor = body["next_cursor"]
    expected = [r[0] for r in db.execute(EXPECTED_IDS, (len(seen),)).fetchall()]
    expect(
        seen == expected,
        "ties-skipped",
        f"{ties} orders share one created_at (placed in the same instant). Walking GET "
        f"/orders?limit={limit} page by page gave the ids {seen}, expected {expected} "
        "(newest first, by created_at then id): a cursor must carry the tiebreaker too, "
        "or rows that tie at a page's edge are skipped or repeated.",
    )


@pytest.mark.check("order_history_keyset_paged")
def test_order_history_foreign_cursor(http: httpx.Client, rng):
    """A cursor the service never gave out is the client's mistake: 400, never a crash
    and never a page made up from it."""
    junk = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(12))
    noise = bytes(rng.randrange(256) for _ in range(rng.randint(6, 24)))
    probes = [
        junk,
        base64.urlsafe_b64encode(noise).decode(),
        base64.urlsafe_b64encode(f"{junk}|{junk}".encode()).decode(),
        "%%%",
    ]
    wrong = []
    for cursor in probes:
        response = http.get("/orders", params={"limit": PAGE, "cursor": cursor})
        if response.status_code not in (400, 422):
            wrong.append(f"cursor={cursor!r} answered {response.status_code}")
    expect(
        not wrong,
        "foreign-cursor",
        f"GET /orders with a cursor the service never gave out: {'; '.join(wrong)}. "
        "Expected 400 Bad Request, as the README says: the client must pass back a "
        "next_cursor it was given. A cursor that cannot be read is the client's mistake, "
        "not a crash (500) and not a page.",
    )

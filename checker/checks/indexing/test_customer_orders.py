"""GET /customers/{id}/orders: the plan of the statement the service really issued."""

from __future__ import annotations

import httpx
import psycopg
from _helpers import captured, drop_learner_indexes, seq_scans

from checker.observe.postgres import StatementLog, explain_captured
from checker.verdict import expect

#: Customer 10 has about 2 000 orders (300 shipped) among the million.
CUSTOMER, STATUS, LIMIT = 10, "shipped", 20
#: Every status of the seed; customers 2 to 40 have at least 40 orders of each.
STATUSES = ("delivered", "shipped", "pending", "cancelled")
MIN_SPEEDUP = 20
#: A good index touches a few index pages and about one table page per row returned.
PAGES_PER_ROW = 5


def test_customer_orders_indexed(
    http: httpx.Client, db: psycopg.Connection, statements: StatementLog, measure, note, rng
):
    path = f"/customers/{CUSTOMER}/orders"
    response, statement = captured(
        statements, http, path, {"status": STATUS, "limit": LIMIT}, "orders"
    )
    rows = len(response.json())
    values = [CUSTOMER, STATUS, LIMIT]
    plan = explain_captured(db, statement, values, expect_rows=rows)
    if plan.execution_ms < 5:  # fast: take the best of a few runs, timings are noisy
        plan = explain_captured(db, statement, values, expect_rows=rows, repeat=3)
    with db.transaction(force_rollback=True):
        if drop_learner_indexes(db, "orders"):
            starter = explain_captured(db, statement, values, expect_rows=rows, repeat=2)
        else:
            starter = plan  # the starter's schema itself: nothing to compare
    speedup = starter.execution_ms / max(plan.execution_ms, 0.001)
    measure("speedup", round(speedup, 1))
    measure("execution_ms", round(plan.execution_ms, 3))
    measure("starter_execution_ms", round(starter.execution_ms, 3))
    measure("pages", plan.buffers)
    measure("plan", sorted(plan.node_types))
    note(
        f"{speedup:.0f}x faster than on the starter's schema ({starter.execution_ms:.1f} ms "
        f"-> {plan.execution_ms:.2f} ms), {plan.buffers} pages read"
    )
    tree = plan.render()
    assert not seq_scans(plan, "orders"), (
        f"The query reads the whole orders table (a Seq Scan over "
        f"{plan.rows_read('orders'):,} rows) to return {rows}. Its plan:\n{tree}"
    )
    read = plan.rows_read("orders")
    assert read <= 10 * max(rows, LIMIT), (
        f"The query reads {read:,} rows of orders to return {rows}: no index leads it "
        f"straight to one customer's orders in one status. Its plan:\n{tree}"
    )
    pages = plan.buffers
    assert pages <= PAGES_PER_ROW * max(rows, LIMIT), (
        f"The query touched {pages} pages (8 kB each) to return {rows} rows: an index is "
        f"used, but the customer's rows are scattered through it, so PostgreSQL walks a "
        f"large part of it (check the order of its columns). Its plan:\n{tree}"
    )
    assert not plan.find("Sort"), (
        f"The query finds the customer's orders through an index, then sorts them (a Sort "
        f"node): the index does not hand them over in created_at order. Its plan:\n{tree}"
    )
    assert speedup >= MIN_SPEEDUP, (
        f"The query ran in {plan.execution_ms:.2f} ms against {starter.execution_ms:.2f} ms "
        f"on the starter's schema: {speedup:.1f}x faster, expected at least {MIN_SPEEDUP}x. "
        f"It touched {plan.buffers} pages for {rows} rows: the index is used, but not to "
        f"go straight to them (check the order of its columns). Its plan:\n{tree}"
    )

    # Another customer in another status, drawn per run: an index that serves only the
    # status probed above (a partial index WHERE status = 'shipped') is not the fix.
    who, status = rng.randint(2, 40), rng.choice([s for s in STATUSES if s != STATUS])
    path = f"/customers/{who}/orders"
    response, statement = captured(
        statements, http, path, {"status": status, "limit": LIMIT}, "orders"
    )
    rows = len(response.json())
    plan = explain_captured(db, statement, [who, status, LIMIT], expect_rows=rows)
    read = plan.rows_read("orders")
    expect(
        not seq_scans(plan, "orders") and read <= 10 * max(rows, LIMIT) and not plan.find("Sort"),
        "one-status-only",
        f"GET {path}?status={status}&limit={LIMIT} reads {read:,} rows of orders to return "
        f"{rows}{' and sorts them' if plan.find('Sort') else ''}: the index serves the "
        f"{STATUS!r} orders, not a customer's orders in any status. Its plan:\n{plan.render()}",
    )

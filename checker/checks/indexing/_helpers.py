"""Helpers for the indexing checks: the statement the service issued for a request, and
its plan, judged the same way on PostgreSQL 15 and 18 (node types, pages, rows read)."""

from __future__ import annotations

import httpx
import psycopg

from checker.observe.postgres import Plan, Statement, StatementLog

#: The indexes of the starter's schema (the seed): the baseline of every speed-up.
STARTER_INDEXES = {"orders_pkey", "ix_orders_status", "orders_status_idx"}


def captured(
    statements: StatementLog, http: httpx.Client, path: str, params: dict, table: str
) -> tuple[httpx.Response, Statement]:
    """Send the request (twice: the first warms the connection and the caches) and give
    back the answer and the statement that read ``table``."""
    http.get(path, params=params)
    with statements.capture() as got:
        response = http.get(path, params=params)
    request = f"GET {path}?{'&'.join(f'{k}={v}' for k, v in params.items())}"
    assert response.status_code == 200, (
        f"{request} should answer 200 OK; it answered {response.status_code}: {response.text[:300]}"
    )
    reading = [s for s in got.touching(table) if s.verb in ("SELECT", "WITH")]
    assert reading, (
        f"{request} answered, but no SQL statement of the service read the {table} table "
        f"(seen: {got.describe(3) or 'none'}). The answer must come from the database."
    )
    return response, max(reading, key=lambda s: s.total_ms)


def seq_scans(plan: Plan, table: str) -> list:
    return [n for n in plan.scans(table) if n.node_type == "Seq Scan"]


def drop_learner_indexes(db: psycopg.Connection, table: str) -> list[str]:
    """Inside the caller's transaction: drop the indexes of ``table`` that the starter's
    schema does not have (rolled back with the transaction)."""
    from psycopg import sql

    names = [
        r[0]
        for r in db.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND tablename = %s",
            (table,),
        ).fetchall()
        if r[0] not in STARTER_INDEXES
    ]
    for name in names:
        db.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    return names

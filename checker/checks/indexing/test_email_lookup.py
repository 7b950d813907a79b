"""GET /customers/by-email: the lookup compares lower(email)."""

from __future__ import annotations

import httpx
import psycopg
from _helpers import captured, seq_scans

from checker.observe.postgres import StatementLog, explain_captured

#: Stored as Reader.777@Example.com; asked for in yet another case.
EMAIL = "READER.777@example.COM"


def test_email_lookup_indexed(
    http: httpx.Client, db: psycopg.Connection, statements: StatementLog, measure, note
):
    response, statement = captured(
        statements, http, "/customers/by-email", {"email": EMAIL}, "customer"
    )
    assert response.json().get("id") == 777, (
        f"GET /customers/by-email?email={EMAIL} should find customer 777 "
        f"(Reader.777@Example.com: emails match whatever their case); it answered "
        f"{response.text[:200]}"
    )
    plan = explain_captured(db, statement, [EMAIL.lower(), EMAIL, 1], expect_rows=1)
    read = plan.rows_read("customer")
    measure("rows_read", read)
    measure("plan", sorted(plan.node_types))
    note(f"{read} row(s) read to find one customer, in {plan.execution_ms:.2f} ms")
    assert not seq_scans(plan, "customer"), (
        f"Finding one customer by email reads all {read:,} customers (a Seq Scan), although "
        f"email has an index. Its plan:\n{plan.render()}"
    )
    assert read <= 5, (
        f"Finding one customer by email reads {read:,} rows of customer. Its plan:\n{plan.render()}"
    )

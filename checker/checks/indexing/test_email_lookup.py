"""GET /customers/by-email: the lookup compares lower(email)."""

from __future__ import annotations

import httpx
import psycopg
from _helpers import captured, seq_scans

from checker.observe.postgres import StatementLog, explain_captured
from checker.verdict import expect


def mixed_case(text: str, rng) -> str:
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in text)


def test_email_lookup_indexed(
    http: httpx.Client, db: psycopg.Connection, statements: StatementLog, measure, note, rng
):
    # Customers drawn per run: one stored in mixed case (every 7th: Reader.N@Example.com),
    # one in lower case, each asked for in yet another case.
    for number in (7 * rng.randint(10, 7000), 7 * rng.randint(10, 7000) + rng.randint(1, 6)):
        stored = db.execute("SELECT email FROM customer WHERE id = %s", (number,)).fetchone()[0]
        email = mixed_case(stored, rng)
        if email == stored:
            email = email.swapcase()
        response, statement = captured(
            statements, http, "/customers/by-email", {"email": email}, "customer"
        )
        got = response.json().get("id") if isinstance(response.json(), dict) else None
        expect(
            got == number,
            "wrong-customer",
            f"GET /customers/by-email?email={email} should find customer {number} "
            f"({stored}: emails match whatever their case); it answered {response.text[:200]}",
        )
        plan = explain_captured(db, statement, [email.lower(), email, 1], expect_rows=1)
        read = plan.rows_read("customer")
        measure("rows_read", read)
        measure("plan", sorted(plan.node_types))
        note(f"{read} row(s) read to find one customer, in {plan.execution_ms:.2f} ms")
        expect(
            not seq_scans(plan, "customer"),
            "seq-scan",
            f"Finding one customer by email reads all {read:,} customers (a Seq Scan), "
            f"although email has an index. Its plan:\n{plan.render()}",
        )
        expect(
            read <= 5,
            "too-many-rows",
            f"Finding one customer by email reads {read:,} rows of customer. Its plan:\n"
            f"{plan.render()}",
        )

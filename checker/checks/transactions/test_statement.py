"""Bonus: a wallet's statement adds up, even with a transfer committed in the middle of it.

The checker takes ACCESS EXCLUSIVE on one of the two tables the statement reads (the
ledger, then, in a second round, the wallets), so the statement's read of it waits; it
commits a transfer into the wallet meanwhile, which also releases the lock. A statement
that reads its two tables in two snapshots (READ COMMITTED) shows the balance from
before the transfer and the ledger from after it (or the other way round): read skew.
"""

import threading
import time

import httpx
import pytest
from _helpers import said, shown

from checker.verdict import expect, fail


def _transfer_sql(conn, payer: int, payee: int, amount: int) -> None:
    conn.execute(
        "UPDATE wallets SET balance_cents = balance_cents - %s WHERE id = %s", (amount, payer)
    )
    conn.execute(
        "UPDATE wallets SET balance_cents = balance_cents + %s WHERE id = %s", (amount, payee)
    )
    conn.execute(
        "INSERT INTO transfers (from_wallet_id, to_wallet_id, amount_cents) VALUES (%s, %s, %s)",
        (payer, payee, amount),
    )
    conn.execute(
        "INSERT INTO ledger (wallet_id, amount_cents, kind) VALUES (%s, %s, 'transfer'), (%s, %s, 'transfer')",
        (payer, -amount, payee, amount),
    )


@pytest.mark.check("statement_adds_up")
@pytest.mark.parametrize("table", ["ledger", "wallets"])
def test_statement_with_a_transfer_in_between(shop, locks, base_url, rng, table):
    opening, amount = rng.randint(1000, 9000), rng.randint(100, 900)
    wallet, payer = shop.wallet(opening), shop.wallet(5000)
    out: dict = {}

    def read() -> None:
        try:
            with httpx.Client(base_url=base_url, timeout=10) as client:
                out["r"] = client.get(f"/wallets/{wallet}/statement")
        except httpx.HTTPError as exc:
            out["r"] = exc

    with locks.hold(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE") as held:
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        deadline = time.monotonic() + 3
        while held.waiting() < 1 and time.monotonic() < deadline and reader.is_alive():
            time.sleep(0.01)
        # Another customer's transfer commits while the statement is being read.
        _transfer_sql(held.conn, payer, wallet, amount)
        held.conn.commit()
    reader.join(10)
    r = out.get("r")
    if not isinstance(r, httpx.Response):
        fail("no-answer", f"GET /wallets/{wallet}/statement got no answer ({type(r).__name__}).")
    expect(
        r.status_code == 200,
        "wrong-status",
        f"GET /wallets/{wallet}/statement answered {said(r)} ({shown(r)}); expected 200.",
    )
    body = r.json()
    entries = body.get("entries") or []
    lines = sum(int(e.get("amount_cents", 0)) for e in entries)
    balance = body.get("balance_cents")
    if balance != lines or body.get("entries_total_cents") != lines:
        fail(
            "read-skew",
            f"A statement read while a transfer of {amount} cents into the wallet committed says balance_cents="
            f"{balance} but its {len(entries)} ledger lines add up to {lines} (entries_total_cents="
            f"{body.get('entries_total_cents')}); expected them equal. Its two queries saw the database at two "
            "moments: the transfer committed in between.",
        )
    expect(
        balance in (opening, opening + amount),
        "wrong-balance",
        f"The statement says balance_cents={balance}; expected {opening} (before the transfer) or {opening + amount} (after it).",
    )

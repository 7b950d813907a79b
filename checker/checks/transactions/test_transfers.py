"""Gift transfers between wallets: no money made or lost, and no deadlock left to the
client."""

import threading
import time
from collections import Counter

import httpx
import pytest
from _helpers import CycleWatch, Volley, no_server_errors, said, shown, spread, tally

from checker.verdict import expect, fail

N = 40
OPENING = 50_000


@pytest.mark.check("transfers_keep_the_total")
def test_forty_transfers_among_five_wallets(shop, locks, base_urls, rng, measure):
    """Every transfer touches the first wallet (the hub), whose row the checker holds FOR
    UPDATE until all 40 wait: each has read its balances before any could write. Two
    wallets only pay the hub and two only receive from it, so no two transfers lock the
    same pair of rows in opposite orders: this check is about lost updates, whatever
    order a service locks in (deadlocks are the next check's)."""
    wallets = shop.wallets(5, OPENING)
    rng.shuffle(wallets)  # which ids pay and which receive: drawn per run
    hub, payers, payees = wallets[0], wallets[1:3], wallets[3:]
    moves = []
    for _ in range(N):
        pair = (rng.choice(payers), hub) if rng.random() < 0.5 else (hub, rng.choice(payees))
        moves.append((*pair, rng.randint(100, 999)))  # 40 x 999 < OPENING: every one can be paid
    calls = [
        (
            url,
            "/wallets/transfers",
            {"from_wallet_id": a, "to_wallet_id": b, "amount_cents": amount},
        )
        for url, (a, b, amount) in zip(spread(base_urls, N), moves, strict=True)
    ]
    with locks.gate("SELECT 1 FROM wallets WHERE id = %s FOR UPDATE", [hub], waiters=N) as gate:
        volley = Volley(calls)
        waited = gate.release()
    answers = volley.join()
    measure("gate_held_s", round(gate.held_s, 3))

    what = f"{N} gift transfers sent at once among 5 wallets"
    no_server_errors(answers, what)
    refused = [a for a in answers if a.status_code != 201]
    if refused:
        fail(
            "refused-with-funds",
            f"{what} answered {tally(answers)} (e.g. {said(refused[0])}: {shown(refused[0])}); expected 201 "
            f"for all of them: every wallet held {OPENING} cents, more than all its transfers together.",
        )
    balances = shop.balances(wallets)
    total = sum(balances.values())
    if total != OPENING * 5:
        fail(
            "money-changed",
            f"After {what} (all answered 201), the 5 wallets hold {total} cents in all; expected "
            f"{OPENING * 5}, as before: a transfer moves money, it never makes or destroys any. "
            f"Balances: {sorted(balances.values())}. Each transfer read a balance, computed the new one "
            f"in Python and wrote it back while others did the same ({waited} waited at once): the "
            "last write won, and the others' changes were lost.",
        )
    negative = {w: b for w, b in balances.items() if b < 0}
    expect(
        not negative,
        "negative-balance",
        f"After {what}, wallet balances went below zero: {negative}.",
    )
    stored = shop.transfers_among(wallets)
    expect(
        Counter(stored) == Counter(moves),
        "transfers-not-stored",
        f"The transfers table holds {len(stored)} transfers among these wallets; expected the {N} "
        "that answered 201, each with its wallets and amount.",
    )
    explained = {w: OPENING for w in wallets}
    for a, b, amount in stored:
        explained[a] -= amount
        explained[b] += amount
    off = {w: (balances[w], explained[w]) for w in wallets if balances[w] != explained[w]}
    expect(
        not off,
        "unexplained-balance",
        "The transfers table does not explain the balances: "
        + ", ".join(f"wallet {w} holds {b}, its transfers say {e}" for w, (b, e) in off.items())
        + ". A concurrent transfer's change was overwritten.",
    )
    ledger = shop.ledger_totals(wallets)
    off = {w: (balances[w], ledger.get(w)) for w in wallets if ledger.get(w) != balances[w]}
    expect(
        not off,
        "ledger-mismatch",
        "The ledger does not add up to the balances: "
        + ", ".join(f"wallet {w} holds {b}, its ledger lines say {e}" for w, (b, e) in off.items())
        + ".",
    )


def _send(url: str, body: dict, out: dict, key: str) -> threading.Thread:
    def run() -> None:
        try:
            with httpx.Client(base_url=url, timeout=15) as client:
                out[key] = client.post("/wallets/transfers", json=body)
        except httpx.HTTPError as exc:
            out[key] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def _until(condition, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


@pytest.mark.check("opposite_transfers_both_succeed")
def test_a_to_b_and_b_to_a_together(shop, locks, base_urls, rng, note, measure):
    """A->B waits on A's row (held by the checker); B->A then starts. Locking in request
    order, B->A takes B and waits for A behind A->B: once A is free, A->B needs B, and
    PostgreSQL must break a deadlock, every time."""
    a, b = shop.wallets(2, OPENING)
    there, back = rng.randint(100, 5000), rng.randint(100, 5000)
    before = locks.deadlocks()
    out: dict = {}
    watch = CycleWatch(locks.url)
    try:
        with locks.hold("SELECT 1 FROM wallets WHERE id = %s FOR UPDATE", [a]) as held:
            first = _send(
                base_urls[0],
                {"from_wallet_id": a, "to_wallet_id": b, "amount_cents": there},
                out,
                "ab",
            )
            _until(lambda: held.waiting() >= 1)
            second = _send(
                base_urls[-1],
                {"from_wallet_id": b, "to_wallet_id": a, "amount_cents": back},
                out,
                "ba",
            )
            _until(lambda: held.waiting() >= 2)
        first.join(20)
        second.join(20)
    finally:
        deadlocked = watch.stop()
    deadlocks = locks.deadlocks() - before
    saw = deadlocked or deadlocks > 0
    answers = [out.get("ab"), out.get("ba")]
    what = "Two opposite transfers at once (A->B and B->A)"
    if any(isinstance(x, httpx.Response) and x.status_code >= 500 for x in answers) and saw:
        bad = next(x for x in answers if isinstance(x, httpx.Response) and x.status_code >= 500)
        fail(
            "deadlock-500",
            f"{what} answered {said(answers[0])} and {said(answers[1])}; expected both 201. PostgreSQL found "
            f"the two transactions waiting for each other (a deadlock, seen in pg_locks; "
            f"pg_stat_database.deadlocks +{deadlocks}) and cancelled one with 40P01, which reached the "
            f"client as {said(bad)}. "
            "Lock the two wallets in the same order in every transfer, or retry a transaction PostgreSQL "
            "cancelled.",
        )
    no_server_errors(
        [x if x is not None else httpx.ReadTimeout("none") for x in answers], what.lower()
    )
    expect(
        all(x.status_code == 201 for x in answers),
        "refused-with-funds",
        f"{what} answered {said(answers[0])} and {said(answers[1])}; expected both 201: each wallet held {OPENING} cents.",
    )
    balances = shop.balances([a, b])
    expect(
        balances == {a: OPENING - there + back, b: OPENING + there - back},
        "money-changed",
        f"After A->B of {there} and B->A of {back}, the wallets hold {balances[a]} and {balances[b]}; expected {OPENING - there + back} and {OPENING + there - back}.",
    )
    measure("deadlocks", deadlocks)
    if saw:
        note(
            f"PostgreSQL broke a deadlock (seen in pg_locks; pg_stat_database.deadlocks +{deadlocks}) "
            "and the retry went through. Locking both wallets in one order avoids the deadlock and "
            "the second the detector waits before breaking it."
        )
    else:
        note(
            "no deadlock (pg_stat_database.deadlocks +0): both transfers lock the wallets in one order"
        )

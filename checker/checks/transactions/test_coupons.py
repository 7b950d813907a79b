"""A limited coupon: never more redemptions than its uses, and no 500 for the crowd."""

import pytest
from _helpers import Volley, is_problem, no_server_errors, said, shown, spread, tally

from checker.verdict import expect, fail

N = 20


@pytest.mark.check("coupon_uses_limited")
def test_twenty_redemptions_of_a_few_uses(shop, locks, base_urls, rng):
    """The checker holds ``LOCK TABLE redemptions IN SHARE MODE`` until all 20 wait: each
    has read the coupon's uses before any could record its redemption."""
    uses, credit = rng.randint(6, 12), rng.randint(100, 2000)
    code = shop.coupon(uses=uses, credit_cents=credit)
    opening = rng.randint(0, 3000)
    wallets = shop.wallets(N, opening)
    calls = [
        (url, f"/coupons/{code}/redeem", {"wallet_id": w})
        for url, w in zip(spread(base_urls, N), wallets, strict=True)
    ]
    with locks.gate("LOCK TABLE redemptions IN SHARE MODE", waiters=N) as gate:
        volley = Volley(calls)
        waited = gate.release()
    answers = volley.join()

    what = f"{N} redemptions sent at once of a coupon with {uses} uses left"
    no_server_errors(answers, what)
    won = sorted(w for w, a in zip(wallets, answers, strict=True) if a.status_code == 201)
    redeemed = shop.db.execute(
        "SELECT wallet_id FROM redemptions WHERE coupon_code = %s ORDER BY wallet_id", (code,)
    ).fetchall()
    redeemed = [r[0] for r in redeemed]
    left = shop.one("SELECT uses_left FROM coupons WHERE code = %s", (code,))
    if len(won) > uses or len(redeemed) > uses or left < 0:
        fail(
            "overspent",
            f"{what} answered {tally(answers)}; the redemptions table holds {len(redeemed)} and the coupon has "
            f"{left} uses left. Expected exactly {uses} redemptions: {waited} read the uses at once, before any "
            "wrote.",
        )
    if len(won) < uses:
        fail(
            "refused-with-uses",
            f"{what} answered {tally(answers)}; expected exactly {uses} to answer 201: customers were refused while uses were left.",
        )
    odd = [
        a for a in answers if a.status_code != 201 and (a.status_code != 409 or not is_problem(a))
    ]
    expect(
        not odd,
        "wrong-status",
        f"{what}: the ones too late answered {said(odd[0]) if odd else ''} ({shown(odd[0]) if odd else ''}); expected 409 Conflict as application/problem+json (used up).",
    )
    expect(
        redeemed == won and left == 0,
        "redemptions-mismatch",
        f"After {len(won)} redemptions answered 201, the redemptions table lists {len(redeemed)} for these customers and the coupon has {left} uses left; expected one row per 201 and 0 left.",
    )
    balances = shop.balances(wallets)
    wrong = {w: b for w, b in balances.items() if b != opening + (credit if w in won else 0)}
    expect(
        not wrong,
        "credit-wrong",
        f"{len(wrong)} wallet balance(s) are wrong after the redemptions (e.g. wallet {next(iter(wrong), '')} holds {next(iter(wrong.values()), '')}); expected {opening + credit} for each customer who got 201 and {opening} for the others.",
    )
    ledger = shop.ledger_totals(wallets)
    off = [w for w in wallets if ledger.get(w) != balances[w]]
    expect(
        not off,
        "ledger-mismatch",
        f"The ledger lines of {len(off)} wallet(s) don't add up to their balance after redeeming; every credit needs its line.",
    )

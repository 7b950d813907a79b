"""A stuck admin session holds a book's row: a checkout of it gives up within the
README's 3 s lock_timeout, answering 503 with Retry-After, and changes nothing.

The checkout was sent at the start of the run (conftest.py, stuck.py) and the row was
released as soon as it answered; only the verdict is taken here."""

import pytest
from _helpers import is_problem, said, shown
from stuck import GIVE_UP_S, LOCK_TIMEOUT_S, SLACK_S

from checker.verdict import expect, fail


@pytest.mark.check("stuck_lock_answers_503")
def test_checkout_behind_a_stuck_admin_session(http, shop, stuck_checkout, measure):
    stuck = stuck_checkout
    got = stuck.result()
    answer, took = got["answer"], got["took"]
    measure("answered_after_s", round(took, 2))
    if answer is None:
        fail(
            "hangs",
            f"An admin session held book {stuck.book}'s row lock (SELECT ... FOR UPDATE, open for 15 s), and "
            f"POST /checkout of that book got no answer in {GIVE_UP_S:.0f} s "
            f"({type(got['error']).__name__}); expected 503 within the documented "
            f"{LOCK_TIMEOUT_S:.0f} s lock_timeout. Without one, the request, its thread and its connection "
            "wait as long as the stuck session does.",
        )
    if answer.status_code == 201:
        fail(
            "waited-it-out",
            f"POST /checkout of a book whose row an admin session held answered 201 after {took:.1f} s; expected 503 within {LOCK_TIMEOUT_S:.0f} s.",
        )
    expect(
        answer.status_code == 503,
        "server-error" if answer.status_code >= 500 else "wrong-status",
        f"POST /checkout of a book whose row an admin session held answered {said(answer)} after {took:.1f} s "
        f"({shown(answer)}); expected 503 Service Unavailable with Retry-After: the lock_timeout expired "
        "(PostgreSQL's 55P03 lock_not_available), nothing was changed, and the client may try again.",
    )
    expect(
        took <= LOCK_TIMEOUT_S + SLACK_S,
        "too-slow",
        f"POST /checkout behind a stuck lock answered 503 after {took:.1f} s; the README promises at most "
        f"{LOCK_TIMEOUT_S:.0f} s (lock_timeout).",
    )
    retry_after = answer.headers.get("retry-after", "")
    expect(
        retry_after.strip().isdigit() or _http_date(retry_after),
        "no-retry-after",
        f"The 503 came without a usable Retry-After header (got {retry_after!r}); expected one, in seconds, "
        "saying when to try again (RFC 9110, section 10.2.3).",
    )
    expect(
        is_problem(answer),
        "not-problem-json",
        f"The 503 answer is not application/problem+json with its status ({shown(answer)}).",
    )
    changed = []
    if shop.stock(stuck.book) != stuck.stock:
        changed.append(f"the book's stock went from {stuck.stock} to {shop.stock(stuck.book)}")
    if shop.orders_of([stuck.wallet]):
        changed.append("an order stayed in the orders table")
    if shop.balances([stuck.wallet])[stuck.wallet] != stuck.balance:
        changed.append("the wallet's balance changed")
    expect(
        not changed,
        "half-done",
        "POST /checkout answered 503, yet " + "; ".join(changed) + ". Expected nothing changed.",
    )
    # The admin session is gone: the client's retry goes through.
    again = http.post("/checkout", json=stuck.cart)
    expect(
        again.status_code == 201,
        "retry-refused",
        f"Once the admin session ended, the same checkout answered {said(again)} ({shown(again)}); expected 201.",
    )


def _http_date(value: str) -> bool:
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(value) is not None
    except (TypeError, ValueError):
        return False

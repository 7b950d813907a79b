"""A provider that accepts the call and never answers."""

import httpx
from _helpers import BOOKS, BUDGET_S, Background, healthy, is_problem, paid_order, said, shown

from checker.verdict import fail

#: Scheduling slack on top of the budget, for a busy machine.
SLACK_S = 0.75
#: How long the check waits for an answer at all: a little past the slack, since an
#: answer after BUDGET_S + SLACK_S is too slow whenever it comes.
GIVE_UP_S = BUDGET_S + SLACK_S + 0.25


def test_hung_provider_times_out(http, base_url, sinks, rng, measure):
    healthy(http, rng)
    book, other = rng.sample(BOOKS, 2)
    order = paid_order(http, other)
    for name in ("shipping", "payments", "warehouse"):
        sinks[name].hang_next(10)  # accept, read the call, never answer
    calls = {
        f"GET /books/{book}/delivery": lambda c: c.get(f"/books/{book}/delivery"),
        "POST /orders": lambda c: c.post("/orders", json={"book_id": book, "quantity": 1}),
        f"POST /orders/{order['id']}/pick": lambda c: c.post(f"/orders/{order['id']}/pick"),
    }
    try:
        results = Background(list(calls.values()), base_url, timeout=GIVE_UP_S).join(GIVE_UP_S + 5)
    finally:
        for name in ("shipping", "payments", "warehouse"):
            sinks[name].recover()
    for name, what, (r, took) in zip(("delivery", "checkout", "pick"), calls, results, strict=True):
        measure(f"{name}_s", round(took, 2))
        if not isinstance(r, httpx.Response):
            fail(
                "no-answer",
                f"With its provider accepting the call and never answering, {what} gave no "
                f"answer in {GIVE_UP_S:.1f} s ({type(r).__name__}); expected 503 or 504 "
                f"problem+json within the {BUDGET_S:g} s budget.",
            )
        if took > BUDGET_S + SLACK_S:
            fail(
                "too-slow",
                f"With its provider never answering, {what} answered {said(r)} after "
                f"{took:.2f} s; expected an answer within the {BUDGET_S:g} s budget.",
            )
        if r.status_code not in (503, 504) or not is_problem(r):
            fail(
                "wrong-status",
                f"With its provider never answering, {what} answered {said(r)} {shown(r)} "
                f"({r.headers.get('content-type')}); expected 503 or 504 as problem+json.",
            )

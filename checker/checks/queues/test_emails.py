"""Order confirmations: retried when the provider fails, sent once when a worker dies."""

from __future__ import annotations

import time

from _helpers import for_order, new_failed, redis_url, wait_until_idle

from checker.observe.rq import registries, rq_job
from checker.people import People
from checker.verdict import fail

#: The seeded catalog's books (seed.sql).
BOOKS = range(1, 51)


def _new_order(rng) -> dict:
    """A customer's order, drawn per run: no address or book marks it as the checks'."""
    return {"customer_email": People(rng).email(), "book_id": rng.choice(BOOKS),
            "quantity": rng.randint(1, 3)}  # fmt: skip


def _order(http, body: dict) -> int:
    r = http.post("/orders", json=body)
    assert r.status_code == 201, f"POST /orders answered {r.status_code}; expected 201"
    return r.json()["id"]


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_retries_with_backoff(http, sinks, measure, rng):
    wait_until_idle()
    email = sinks["email"]
    # The provider of the README: it recognises a repeated Idempotency-Key. It fails
    # twice, with a 503 and then another 5xx drawn per run (any 5xx is a failure).
    email.honour_idempotency_keys()
    second = rng.choice([500, 502, 504])
    email.fail_next(1, status=503)
    email.fail_next(1, status=second)
    before = registries(redis_url(), "emails")
    order = _order(http, _new_order(rng))
    # Until delivered, or until the job visibly gave up (in rq's failed registry).
    delivered = _wait(
        lambda: for_order(email.deliveries(), order) or new_failed("emails", before), timeout=12
    )
    delivered = bool(for_order(email.deliveries(), order))
    calls = for_order(email.calls(), order)
    gaps = [round(b["at"] - a["at"], 2) for a, b in zip(calls, calls[1:], strict=False)]
    measure("attempts", len(calls))
    measure("gaps_s", gaps)
    if not delivered:
        fail(
            "not-retried" if len(calls) < 3 else "not-delivered",
            f"the provider failed twice (503, then {second}) and then worked, but order "
            f"{order}'s confirmation was never sent: {len(calls)} attempt(s)",
        )
    # rq stores a retry's time in whole seconds and its scheduler wakes once a second, so
    # one gap of a 1 s interval can be as short as a few ms; the longest of the first two
    # is >= 0.5 s whenever the job waits at all (retries with no interval come at once).
    # rq's own record of the retries it was told to make: intervals of 0 retry at once,
    # however long a busy machine happened to take between two attempts.
    # Every registry: on a busy machine the job can still be finishing (started) after
    # its delivery, and a job found nowhere would leave only the gaps to judge by.
    after = registries(redis_url(), "emails")
    old = {j for ids in before.values() for j in ids}
    jobs = [
        rq_job(redis_url(), j) for j in sorted({j for ids in after.values() for j in ids} - old)
    ]
    intervals = [i for j in jobs if j is not None for i in (j.retry_intervals or [])]
    measure("retry_intervals", intervals)
    if (intervals and not any(intervals)) or max(gaps[:2], default=0) < 0.5:
        fail(
            "no-backoff",
            f"the attempts came {gaps} s apart; expected a wait before each retry, so a "
            "struggling provider gets time to recover",
        )
    email.settle(quiet=0.5)
    if len(for_order(email.deliveries(), order)) != 1:
        fail("duplicate-email", "the confirmation was sent more than once")


def test_worker_crash_no_duplicate(http, sinks, worker, measure, rng):
    wait_until_idle()
    email = sinks["email"]
    # A provider that, like most, recognises a repeated Idempotency-Key. This once, it
    # sends the email but its answer never reaches the worker, which dies meanwhile.
    email.honour_idempotency_keys()
    email.fail_next(1, "timeout", deliver=True, delay=20)
    body = _new_order(rng)
    order = _order(http, body)
    assert _wait(lambda: for_order(email.calls(), order), timeout=10), (
        f"order {order}'s confirmation job never called the email provider"
    )
    killed = worker.kill()
    worker.start()
    job_ids = killed.get("abandoned", [])

    def job_status() -> str | None:
        jobs = [rq_job(redis_url(), j) for j in job_ids]
        statuses = {j.get_status().value for j in jobs if j is not None and j.get_status()}
        return next((s for s in ("failed", "finished") if s in statuses), None)

    # A job with no retry left is failed at once: nothing will run it again, so there
    # is no need to wait for the new worker.
    if job_status() != "failed":
        assert worker.wait_ready(), "the new worker did not start"
        _wait(lambda: job_status() is not None, timeout=10)
    email.settle(quiet=0.5)
    calls = for_order(email.calls(), order)
    sent = for_order(email.deliveries(), order)
    measure("attempts", len(calls))
    measure("emails_sent", len(sent))
    if len(sent) != 1:
        fail(
            "duplicate-email",
            f"the worker died while sending order {order}'s confirmation; after the job ran "
            f"again, the customer got {len(sent)} emails: each attempt sent a new one",
        )
    status = job_status()
    if status == "failed":
        fail(
            "not-retried",
            f"the worker died while sending order {order}'s confirmation, and the job never "
            "ran again: rq moved it to the failed registry (it had no retries left)",
        )
    if status != "finished":
        fail(
            "not-finished",
            f"the job that was sending order {order}'s confirmation did not finish after "
            "the worker was restarted",
        )
    # Another order, to the same provider: its confirmation is another email, so it must
    # carry another key (the provider drops a key it has already delivered). The same
    # customer orders the same again: only the order tells the two emails apart.
    other = _order(http, body)
    _wait(lambda: for_order(email.calls(), other), timeout=10)
    email.settle(quiet=0.3)
    if not for_order(email.deliveries(), other):
        replayed = [c for c in for_order(email.calls(), other) if c["outcome"] == "replay"]
        fail(
            "shared-key" if replayed else "not-delivered",
            f"order {other}'s confirmation carried the Idempotency-Key of order {order}'s, "
            "so the provider took it for a repeat and sent nothing: the key must name the "
            "email (its order), not only its kind"
            if replayed
            else f"order {other}'s confirmation (with the provider working) was never sent",
        )

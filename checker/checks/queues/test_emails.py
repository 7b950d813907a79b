"""Order confirmations: retried when the provider fails, sent once when a worker dies."""

from __future__ import annotations

import time

from _helpers import for_order, redis_url, wait_until_idle

from checker.observe.rq import rq_job

ORDER = {"customer_email": "ada@example.org", "book_id": 1, "quantity": 1}


def _order(http) -> int:
    r = http.post("/orders", json=ORDER)
    assert r.status_code == 201, f"POST /orders answered {r.status_code}; expected 201"
    return r.json()["id"]


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_retries_with_backoff(http, sinks, measure):
    wait_until_idle()
    email = sinks["email"]
    email.fail_next(2)
    order = _order(http)
    delivered = _wait(lambda: for_order(email.deliveries(), order), timeout=12)
    calls = for_order(email.calls(), order)
    gaps = [round(b["at"] - a["at"], 2) for a, b in zip(calls, calls[1:], strict=False)]
    measure("attempts", len(calls))
    measure("gaps_s", gaps)
    assert delivered, (
        f"the provider failed twice (503) and then worked, but order {order}'s confirmation "
        f"was never sent: {len(calls)} attempt(s)"
    )
    # rq stores a retry's time in whole seconds and its scheduler wakes once a second, so
    # one gap of a 1 s interval can be as short as a few ms; the longest of the first two
    # is >= 0.5 s whenever the job waits at all (retries with no interval come at once).
    assert max(gaps[:2], default=0) >= 0.5, (
        f"the attempts came {gaps} s apart; expected a wait before each retry, so a "
        "struggling provider gets time to recover"
    )
    email.settle(quiet=0.5)
    assert len(for_order(email.deliveries(), order)) == 1, (
        "the confirmation was sent more than once"
    )


def test_worker_crash_no_duplicate(http, sinks, worker, measure):
    wait_until_idle()
    email = sinks["email"]
    # A provider that, like most, recognises a repeated Idempotency-Key. This once, it
    # sends the email but its answer never reaches the worker, which dies meanwhile.
    email.honour_idempotency_keys()
    email.fail_next(1, "timeout", deliver=True, delay=20)
    order = _order(http)
    assert _wait(lambda: for_order(email.calls(), order), timeout=10), (
        f"order {order}'s confirmation job never called the email provider"
    )
    killed = worker.kill()
    worker.start()
    assert worker.wait_ready(), "the new worker did not start"
    job_ids = killed.get("abandoned", [])

    def job_status() -> str | None:
        jobs = [rq_job(redis_url(), j) for j in job_ids]
        statuses = {j.get_status().value for j in jobs if j is not None and j.get_status()}
        return next((s for s in ("failed", "finished") if s in statuses), None)

    _wait(lambda: job_status() is not None, timeout=10)
    email.settle(quiet=0.5)
    calls = for_order(email.calls(), order)
    sent = for_order(email.deliveries(), order)
    measure("attempts", len(calls))
    measure("emails_sent", len(sent))
    assert len(sent) == 1, (
        f"the worker died while sending order {order}'s confirmation; after the job ran "
        f"again, the customer got {len(sent)} emails: each attempt sent a new one"
    )
    assert job_status() == "finished", (
        f"the worker died while sending order {order}'s confirmation, and the job never "
        "ran again: rq moved it to the failed registry (it had no retries left)"
        if job_status() == "failed"
        else f"the job that was sending order {order}'s confirmation did not finish after "
        "the worker was restarted"
    )

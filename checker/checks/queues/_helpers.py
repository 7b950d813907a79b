"""Shared by the queue checks: polling a report's status, and the run's rq registries."""

from __future__ import annotations

import os
import time

from checker.observe.rq import queue_names, registries, rq_job

MONTH = "2026-03"  # a month with sales
#: Months with sales (seed.sql: 2026-01-01 to the first days of October), and years
#: without any; the checks draw theirs per run.
SALES_MONTHS = [f"2026-{m:02d}" for m in range(1, 10)]
#: A month whose end is in the next year (seed.sql has its sales too): every run asks for it.
YEAR_END = "2025-12"
EMPTY_YEARS = range(2000, 2020)


def empty_month(rng) -> str:
    """A month without sales: its report cannot be built."""
    return f"{rng.choice(EMPTY_YEARS)}-{rng.randint(1, 12):02d}"


def redis_url() -> str:
    return os.environ["LAB_RUN_REDIS_URL"]


def status_url_of(r) -> str | None:
    """Where a POST /reports answer says the status is: Location, else status_url."""
    url = r.headers.get("location")
    if not url:
        try:
            url = r.json().get("status_url")
        except ValueError:
            return None
    return url


def poll_status(http, url: str, *, until=("finished", "failed"), timeout: float = 10.0):
    """GET the status URL until it says one of ``until``; returns (statuses seen, in
    order, without repeats; the last answer)."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        r = http.get(url)
        status = r.json().get("status") if r.status_code == 200 else f"HTTP {r.status_code}"
        if not seen or seen[-1] != status:
            seen.append(status)
        if status in until or r.status_code != 200 or time.monotonic() > deadline:
            return seen, r
        time.sleep(0.03)


def wait_for_new_job(queue: str, before: dict, *, timeout: float = 10.0):
    """The first job of ``queue`` to reach the finished or failed registry that was not
    there in ``before`` (a ``registries`` snapshot), as an rq Job, or None."""
    known = set(before["finished"]) | set(before["failed"])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = registries(redis_url(), queue)
        new = [j for j in now["finished"] + now["failed"] if j not in known]
        if new:
            return rq_job(redis_url(), new[0])
        time.sleep(0.05)
    return None


def new_failed(queue: str, before: dict) -> list[str]:
    """Jobs of ``queue`` that reached rq's failed registry since ``before``: they gave up
    (a job with retries left waits in the scheduled registry instead)."""
    return [j for j in registries(redis_url(), queue)["failed"] if j not in before["failed"]]


def for_order(calls: list[dict], order_id: int) -> list[dict]:
    return [
        c for c in calls if isinstance(c["body"], dict) and c["body"].get("order_id") == order_id
    ]


def wait_until_idle(timeout: float = 20.0) -> bool:
    """Wait until no job of an earlier check is queued, running or scheduled, so this
    check's job is not stuck behind it (the worker takes one job at a time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = False
        for name in queue_names(redis_url()):
            reg = registries(redis_url(), name)
            busy = busy or any(reg[k] for k in ("queued", "started", "scheduled"))
        if not busy:
            return True
        time.sleep(0.1)
    return False

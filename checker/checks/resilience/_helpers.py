"""Helpers for the resilience checks: the shop as a customer uses it, the providers (the
``shipping``, ``payments`` and ``warehouse`` sinks) as they saw it, answers worded for
the learner.

The README's policy, which these checks hold the service to (the service reads it from
its own code; nothing here changes it): 0.5 s per attempt, at most 3 attempts within a
1 s budget, waits drawn below 0.2 s * 2**retry, a breaker that opens after 5 failed
calls for 1 s, at most 10 calls in flight to shipping.

Every check starts from healthy providers (the ``sinks`` fixture resets them) and a
closed breaker (``healthy``: one good call first), and uses its own books and orders.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from checker.verdict import fail

ATTEMPT_S = 0.5
ATTEMPTS = 3
BUDGET_S = 1.0
BACKOFF_BASE_S = 0.2
BREAKER_FAILURES = 5
BREAKER_OPEN_S = 1
MAX_IN_FLIGHT = 10
BOOKS = list(range(1, 20))  # the seeded catalogue's ids the checks probe
HEALTH_BOOK = 20  # the one good call's book: never a probe


def said(response: httpx.Response) -> str:
    phrase = "Unprocessable Content" if response.status_code == 422 else response.reason_phrase
    return f"{response.status_code} {phrase or ''}".strip()


def body_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def shown(response: httpx.Response) -> str:
    text = json.dumps(body_of(response)) if response.content else "an empty body"
    return text if len(text) <= 160 else text[:157] + "..."


def is_problem(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").startswith("application/problem+json")


def retry_after(response: httpx.Response) -> int | None:
    value = response.headers.get("retry-after", "").strip()
    return int(value) if value.isdigit() else None


def quote_calls(shipping, book_id: int) -> list[dict[str, Any]]:
    """The shipping provider's calls for one book's quote, oldest first."""
    return [
        c for c in shipping.calls()
        if c["path"].split("?")[0].rstrip("/").endswith(f"/quotes/{book_id}")
    ]  # fmt: skip


def order_calls(sink, order_id: int | str) -> list[dict[str, Any]]:
    """A sink's calls about one order (the body's order_id), oldest first."""
    return [
        c for c in sink.calls()
        if isinstance(c["body"], dict) and str(c["body"].get("order_id")) == str(order_id)
    ]  # fmt: skip


def healthy(http: httpx.Client, rng=None) -> None:  # noqa: ARG001
    """One good call first: the shipping provider answers, and the service's breaker is
    closed (a breaker another check opened closes within its open time)."""
    deadline = time.monotonic() + BREAKER_OPEN_S + 3
    book = HEALTH_BOOK
    while True:
        r = http.get(f"/books/{book}/delivery")
        if r.status_code == 200:
            return
        if time.monotonic() > deadline:
            fail(
                "not-healthy",
                f"With every provider healthy, GET /books/{book}/delivery still answered "
                f"{said(r)} {shown(r)} after {BREAKER_OPEN_S + 3} s; expected 200 with the "
                "shipping quote. This check starts from a working shop.",
            )
        time.sleep(0.02)


def paid_order(http: httpx.Client, book_id: int, quantity: int = 1) -> dict[str, Any]:
    r = http.post("/orders", json={"book_id": book_id, "quantity": quantity})
    if r.status_code != 201:
        fail(
            "checkout-failed",
            f"POST /orders with every provider healthy answered {said(r)} {shown(r)}; "
            "expected 201 with the paid order. This check needs a paid order to go on.",
        )
    return r.json()


def together(calls: list[Callable[[httpx.Client], httpx.Response]], base_url: str,
             timeout: float = 10.0, *, waves: int = 1, apart_s: float = 0.05,
             done: list[Any] | None = None) -> list[tuple[httpx.Response | Exception, float]]:  # fmt: skip
    """Each call on a connection of its own, all released at one instant (or in
    ``waves`` groups ``apart_s`` apart); each result (a response, or the exception)
    with its seconds. ``done``, if given, gets each result as it comes."""
    n = len(calls)
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    finished = done if done is not None else []
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=0)
    client = httpx.Client(base_url=base_url, timeout=timeout, limits=limits)

    def one(i: int) -> None:
        barrier.wait()
        time.sleep(apart_s * (i * waves // n))
        t0 = time.perf_counter()
        try:
            results[i] = (calls[i](client), time.perf_counter() - t0)
        except httpx.HTTPError as exc:
            results[i] = (exc, time.perf_counter() - t0)
        finished.append(results[i])

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout + 5)
    client.close()
    return results


class Background:
    """Calls running on threads of their own while the check watches the providers."""

    def __init__(self, calls: list[Callable[[httpx.Client], httpx.Response]], base_url: str,
                 timeout: float = 10.0) -> None:  # fmt: skip
        self.results: list[Any] = []
        #: The results so far, in the order they came.
        self.done: list[Any] = []
        self._thread = threading.Thread(
            target=lambda: self.results.extend(together(calls, base_url, timeout,
                                                        done=self.done)),
            daemon=True,
        )  # fmt: skip
        self._thread.start()

    def running(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float = 15.0) -> list[tuple[httpx.Response | Exception, float]]:
        self._thread.join(timeout)
        return self.results

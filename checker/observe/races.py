"""Races made to happen on every run: the losing interleaving, forced from outside.

A check that sends duplicates one at a time never sees check-then-insert fail. Here the
checker holds a table's writes on a connection of its own (``writes_held``) while it
sends requests together (``at_once``): every racer reads before any can write, then all
are let go at once. Deterministic: no sleep decides who wins.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from psycopg import sql

from checker.observe.locks import Locks


@contextmanager
def writes_held(table: str = "book") -> Iterator[Callable[[int], int]]:
    """Hold the table's writes on a connection of the checker's own: reads go through,
    INSERT and UPDATE wait (LOCK ... IN SHARE MODE). Yields ``open_when(n)``: wait until
    n of the service's sessions wait on a lock (3 s at most), then let them go, and say
    how many waited. Every racer has then read before any writes: the losing
    interleaving of check-then-insert, on every run.

    The lock gate of :mod:`checker.observe.locks` (the ``locks`` fixture), with the
    patience of a gate that must not open early: racers may spend their first second
    hashing a password before they reach the insert, so only the timeout opens it
    before n wait, never a quiet spell."""
    locks = Locks.from_env()
    lock = sql.SQL("LOCK TABLE {} IN SHARE MODE").format(sql.Identifier(table))
    with locks.gate(lock.as_string(None), waiters=1, quiet=3.0, timeout=3.0) as gate:

        def open_when(n: int, timeout: float = 3.0) -> int:
            gate.waiters, gate.quiet, gate.timeout = n, timeout, timeout
            return gate.release()

        yield open_when


def at_once(base_url: str, calls: list[tuple[str, str, Any]], release: Callable[[], None]):
    """Send the requests together (released by a barrier), call ``release()`` once they
    are all sent, and return their answers (status codes; None for no answer)."""
    barrier = threading.Barrier(len(calls))
    answers: list[httpx.Response | None] = [None] * len(calls)

    def one(i: int) -> None:
        method, url, body = calls[i]
        with httpx.Client(base_url=base_url, timeout=20) as client:
            barrier.wait()
            try:
                answers[i] = client.request(method, url, json=body)
            except httpx.HTTPError:
                answers[i] = None

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    release()
    for t in threads:
        t.join(30)
    return answers

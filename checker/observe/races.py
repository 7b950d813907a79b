"""Races made to happen on every run: the losing interleaving, forced from outside.

A check that sends duplicates one at a time never sees check-then-insert fail. Here the
checker holds a table's writes on a connection of its own (``writes_held``) while it
sends requests together (``at_once``): every racer reads before any can write, then all
are let go at once. Deterministic: no sleep decides who wins.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import psycopg
from psycopg import sql


@contextmanager
def writes_held(table: str = "book") -> Iterator[Callable[[int], int]]:
    """Hold the table's writes on a connection of the checker's own: reads go through,
    INSERT and UPDATE wait (LOCK ... IN SHARE MODE). Yields ``open_when(n)``: wait until
    n of the service's sessions wait on a lock (pg_stat_activity, 3 s at most), then
    let them go, and say how many waited. Every racer has then read before any writes: the
    losing interleaving of check-then-insert, on every run."""
    url = os.environ["LAB_RUN_DATABASE_URL"]
    # The watch polls on a connection of its own, in autocommit: inside the gate's
    # transaction pg_stat_activity would be one frozen snapshot, and the gate would only
    # ever open at its timeout.
    with psycopg.connect(url) as gate, psycopg.connect(url, autocommit=True) as watch:
        gate.execute(sql.SQL("LOCK TABLE {} IN SHARE MODE").format(sql.Identifier(table)))
        gate_pid = gate.info.backend_pid

        def open_when(n: int, timeout: float = 3.0) -> int:
            deadline = time.monotonic() + timeout
            while True:
                # Sessions of this database waiting on a lock: on the gate's, or on a row
                # another racer holds (SELECT ... FOR UPDATE).
                got = watch.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND pid NOT IN (pg_backend_pid(), %s)",
                    (gate_pid,),
                ).fetchone()[0]
                if got >= n or time.monotonic() > deadline:
                    gate.rollback()
                    return got
                time.sleep(0.02)

        try:
            yield open_when
        finally:
            gate.rollback()


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

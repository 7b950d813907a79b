"""Races forced on every run: the lock gate and blocker transactions.

A race in the learner's code (check-then-act, a lost update) shows only when requests
overlap inside their critical section, and on a quiet machine they rarely do. The
**gate** makes them overlap every time: the checker takes a lock that conflicts with
what the service's requests need (``LOCK TABLE order_items IN SHARE MODE``, ``SELECT ...
FOR UPDATE`` of a row), on a connection of its own, fires its requests, and releases the
lock only once PostgreSQL shows that N service backends wait behind it (directly, or
queued behind another backend that does: ``pg_blocking_pids``) or nothing moved for
``quiet`` seconds (a service that never takes that lock, an in-process lock, fewer
requests than expected). Then all of them proceed at once::

    with locks.gate("SELECT 1 FROM books WHERE id = %s FOR UPDATE", [book_id], waiters=30) as gate:
        futures = [pool.submit(http.post, "/checkout", json=cart) for _ in range(30)]
        gate.release()                 # returns how many waited (gate.waited, too)
    answers = [f.result() for f in futures]

A **blocker** is a transaction held open until the block ends (a stuck admin session):
``with locks.hold("SELECT 1 FROM books WHERE id = %s FOR UPDATE", [1]): ...``.

Both run on the run's own database through the admin role, so the learner's role needs
no grant for them. This module depends on psycopg only (observe/ imports no engine
module).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

#: Backends (transitively) blocked by ``pid``: pg_blocking_pids, followed from the holder.
_BEHIND = """
WITH RECURSIVE waiting AS (
    SELECT pid, pg_blocking_pids(pid) AS blockers FROM pg_stat_activity
    WHERE datid = %(db)s AND wait_event_type = 'Lock'
), behind(pid) AS (
    SELECT pid FROM waiting WHERE %(pid)s = ANY(blockers)
    UNION
    SELECT w.pid FROM waiting w JOIN behind b ON b.pid = ANY(w.blockers)
)
SELECT count(*) FROM behind
"""


class Held:
    """A transaction of the checker's own, holding what its statements locked."""

    def __init__(self, url: str, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        import psycopg

        self.conn = psycopg.connect(url, autocommit=False, connect_timeout=10)
        try:
            self.pid = self.conn.info.backend_pid
            self.dbid = self.conn.execute(
                "SELECT oid FROM pg_database WHERE datname = current_database()"
            ).fetchone()[0]
            for sql, params in statements:
                self.conn.execute(sql, params or None)
        except BaseException:
            self.conn.close()
            raise
        self._watch = psycopg.connect(url, autocommit=True, connect_timeout=10)
        self.released = False

    def waiting(self) -> int:
        """Backends of this database waiting behind this transaction now: for a lock it
        holds, or for one held by another backend that waits behind it (a racer queued
        on the row of the first racer, itself held up by the gate). A backend waiting on
        something unrelated (another check's blocker) is not counted."""
        return int(self._watch.execute(_BEHIND, {"db": self.dbid, "pid": self.pid}).fetchone()[0])

    def release(self) -> None:
        """End the transaction (a rollback: the gate changes nothing)."""
        if not self.released:
            self.released = True
            self.conn.rollback()

    def close(self) -> None:
        try:
            Held.release(self)  # at once, even for a gate never released on purpose
        finally:
            self.conn.close()
            self._watch.close()


class Gate(Held):
    """Held until ``waiters`` backends wait behind it, or nothing moved for ``quiet``."""

    def __init__(self, url: str, statements, *, waiters: int, quiet: float = 1.0,
                 timeout: float = 15.0) -> None:  # fmt: skip
        super().__init__(url, statements)
        self.waiters, self.quiet, self.timeout = waiters, quiet, timeout
        self.waited = 0  # the most backends seen waiting at once
        self.held_s = 0.0

    def release(self) -> int:  # type: ignore[override]
        """Wait for the waiters (or the quiet), then release; returns how many waited."""
        if self.released:
            return self.waited
        t0 = time.monotonic()
        last_change, last = t0, -1
        while True:
            now_waiting = self.waiting()
            now = time.monotonic()
            if now_waiting != last:
                last, last_change = now_waiting, now
            self.waited = max(self.waited, now_waiting)
            if now_waiting >= self.waiters:
                break
            if now - last_change >= self.quiet or now - t0 >= self.timeout:
                break
            time.sleep(0.01)
        self.held_s = time.monotonic() - t0
        super().release()
        return self.waited


def _statements(sql: str | Sequence[str], params: Sequence[Any] | None):
    if isinstance(sql, str):
        return [(sql, params or ())]
    return [(s, ()) for s in sql]


class Locks:
    """The ``locks`` fixture: gates and blockers on the run's database."""

    def __init__(self, url: str) -> None:
        self.url = url

    @classmethod
    def from_env(cls) -> Locks:
        import os
        from urllib.parse import urlsplit, urlunsplit

        admin = urlsplit(os.environ["LAB_ADMIN_DATABASE_URL"])
        run = urlsplit(os.environ["LAB_RUN_DATABASE_URL"])
        return cls(urlunsplit(admin._replace(path=run.path)))

    def deadlocks(self) -> int:
        """Deadlocks PostgreSQL detected in the run's database so far
        (``pg_stat_database.deadlocks``): compare before and after, as a delta."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as conn:
            conn.execute("SELECT pg_stat_clear_snapshot()")
            return int(conn.execute(
                "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
            ).fetchone()[0])  # fmt: skip

    @contextmanager
    def gate(self, sql: str | Sequence[str], params: Sequence[Any] | None = None, *,
             waiters: int, quiet: float = 1.0, timeout: float = 15.0) -> Iterator[Gate]:  # fmt: skip
        """Hold ``sql``'s locks until ``waiters`` service backends wait behind them (or
        nothing moved for ``quiet`` s) once ``gate.release()`` is called; released at the
        end of the block in any case."""
        gate = Gate(self.url, _statements(sql, params), waiters=waiters, quiet=quiet,
                    timeout=timeout)  # fmt: skip
        try:
            yield gate
        finally:
            gate.close()

    @contextmanager
    def hold(self, sql: str | Sequence[str], params: Sequence[Any] | None = None) -> Iterator[Held]:
        """A blocker: ``sql`` runs in a transaction held open until the block ends."""
        held = Held(self.url, _statements(sql, params))
        try:
            yield held
        finally:
            held.close()

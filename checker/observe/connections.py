"""How many PostgreSQL connections a service holds and opens, seen from the server.

:class:`ConnectionWatch` samples ``pg_stat_activity`` of one database in a background
thread (the peak number of client connections at once) and reads
``pg_stat_database.sessions`` (PostgreSQL 14+: every session ever established to that
database) before and after, so it also knows how many connections were *opened*
meanwhile, including those too short-lived for any sample to see. A pooled service
opens a handful and reuses them; a service that connects per request opens about one
per request. Compare those numbers with the pool size, or with the requests served.

It connects through the admin URL (``LAB_ADMIN_DATABASE_URL``, another database), so
its own connection is never counted; pass the pids of other observers (a check's
``db`` connection) in ``exclude_pids``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

_ACTIVITY = """
    SELECT count(*) FROM pg_stat_activity
    WHERE datname = %s AND backend_type = 'client backend' AND pid <> ALL(%s)
"""
_SESSIONS = "SELECT sessions FROM pg_stat_database WHERE datname = %s"


class ConnectionWatch:
    """``with ConnectionWatch(admin_url, dbname) as w: ...load...``; then ``w.peak``,
    ``w.opened``, ``w.samples``."""

    def __init__(
        self, admin_url: str, dbname: str, *, exclude_pids: Iterable[int] = (),
        interval_s: float = 0.05,
    ) -> None:  # fmt: skip
        self.admin_url, self.dbname, self.interval_s = admin_url, dbname, interval_s
        self.exclude = sorted(set(exclude_pids))
        self.samples: list[int] = []
        self.opened = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn = None
        self._sessions_before = 0

    @property
    def peak(self) -> int:
        return max(self.samples, default=0)

    def _sessions(self) -> int:
        # Each query is its own transaction (autocommit): a fresh statistics snapshot.
        self._conn.execute("SELECT pg_stat_clear_snapshot()")
        row = self._conn.execute(_SESSIONS, (self.dbname,)).fetchone()
        return int(row[0] or 0) if row else 0

    def __enter__(self) -> ConnectionWatch:
        import psycopg

        self._conn = psycopg.connect(self.admin_url, autocommit=True)
        self._sessions_before = self._sessions()
        self._thread = threading.Thread(target=self._run, name="connection-watch", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            while not self._stop.is_set():
                row = conn.execute(_ACTIVITY, (self.dbname, self.exclude)).fetchone()
                self.samples.append(int(row[0]) if row else 0)
                self._stop.wait(self.interval_s)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            # Backends report their statistics when they end or go idle (at most a
            # second later): give the last ones a moment.
            time.sleep(0.3)
            self.opened = max(0, self._sessions() - self._sessions_before)
        finally:
            self._conn.close()

"""Shared by the caching checks: statements the service ran, and the run's cache."""

from __future__ import annotations

import time

from checker.observe.postgres import settle
from checker.observe.redis import keyspace
from checker.services.redis_lease import LEASE_KEY

# Transaction control and session settings are not "reading the database".
_NOT_WORK = r"^\s*(BEGIN|COMMIT|ROLLBACK|SET|SHOW|SAVEPOINT|RELEASE|DISCARD|RESET|DEALLOCATE)\b"

#: The seeded catalog: 600 books in six genres; 2,000 customers, each leaning towards
#: the genre ``customer % 6`` names (seed.sql).
BOOKS = 600
GENRES = ["fantasy", "science-fiction", "mystery", "history", "poetry", "cooking"]
CUSTOMERS = 2000
#: Books each check may change, drawn per run: apart, so no check meets another's edit
#: (books 1 and 7 are read by others).
BOOKS_UPDATED = range(20, 310)
BOOKS_DURING_OUTAGE = range(310, BOOKS + 1)

#: The pages that cache, with the headers they need.
READS = [
    ("/stats", {}),
    ("/books/bestsellers?genre=fantasy&limit=5", {}),
    ("/books/1", {}),
    ("/recommendations", {"X-Customer-Id": "1"}),
]


def statements(db, *, reading: str | None = None) -> int:
    """Statements run so far in this run's database, from pg_stat_statements (the
    checks' own reads of pg_stat_statements and pg_stat_activity left out); with
    ``reading``, only those that name that table (a computation, as opposed to a
    connection's set-up)."""
    row = db.execute(
        "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements s "
        "JOIN pg_database d ON d.oid = s.dbid "
        "WHERE d.datname = current_database() AND s.query !~* %s "
        "AND s.query NOT ILIKE '%%pg_stat_%%' AND s.query ~* %s",
        (_NOT_WORK, rf"\m{reading}\M" if reading else "."),
    ).fetchone()
    return int(row[0])


def _deallocations(db) -> int:
    return int(db.execute("SELECT dealloc FROM pg_stat_statements_info").fetchone()[0])


def count_statements(db, action, *, reading: str | None = None, attempts: int = 5):
    """``(statements run by action(), what it returned)``. pg_stat_statements keeps a
    bounded number of entries (shared by every database of the server) and evicts the
    least used ones when full, which would make counts drop; a measurement during which
    that happened is taken again (``action`` must be repeatable)."""
    for _ in range(attempts):
        settle(db)
        evictions = _deallocations(db)
        before = statements(db, reading=reading)
        value = action()
        settle(db)
        ran = statements(db, reading=reading) - before
        if _deallocations(db) == evictions:
            return ran, value
    raise RuntimeError("pg_stat_statements kept evicting entries: no count could be taken")


def cache_keys(redis) -> dict:
    """Every key of the run's Redis database but the run's own lease: whatever the
    service stored, whatever its name (even one that looks like rq's or ours)."""
    return {name: key for name, key in keyspace(redis, ignore=()).items() if name != LEASE_KEY}


def clear_cache(redis) -> int:
    """Delete every cache entry of the run (never the run's own lease key)."""
    keys = list(cache_keys(redis))
    if keys:
        redis.delete(*keys)
    return len(keys)


def expire_entry(redis, answer) -> list[str]:
    """Delete the cache entries that hold ``answer`` (a page's JSON, as a string value)
    and nothing else: what the entry's TTL running out does, while a lock the service
    took and never released stays. The keys deleted; none if the service stores its
    entries some other way (then nothing is judged from it)."""
    import json

    gone = []
    for name, key in cache_keys(redis).items():
        if key.type != "string":
            continue
        try:
            if json.loads(redis.get(name) or "null") == answer:
                gone.append(name)
        except (ValueError, UnicodeDecodeError):
            continue
    if gone:
        redis.delete(*gone)
    return gone


def timed_get(http, path: str, headers: dict | None = None):
    t0 = time.perf_counter()
    r = http.get(path, headers=headers or {})
    return r, time.perf_counter() - t0

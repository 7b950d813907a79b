"""Per-run Redis namespaces: one logical database (``SELECT n``) leased per run.

A db is leased only when it is empty (so a user's own data on an external server is
never touched), with an expiring lease key set atomically (``SET NX EX``), and flushed
when the run ends.
"""

from __future__ import annotations

import contextlib
import secrets
from urllib.parse import urlsplit, urlunsplit

from ..errors import ServiceUnavailable

LEASE_KEY = "backend-lab:lease"
LEASE_TTL_S = 6 * 3600


def with_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


class RedisLease:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.db: int | None = None
        self.token = secrets.token_hex(8)

    @property
    def url(self) -> str:
        assert self.db is not None
        return with_db(self.base_url, self.db)

    def acquire(self) -> str:
        import redis

        with redis.Redis.from_url(with_db(self.base_url, 0), socket_timeout=5) as probe:
            try:
                count = int(probe.config_get("databases").get("databases", 16))
            except redis.ResponseError:  # CONFIG may be disabled on managed servers
                count = 16
        for db in range(1, count):
            with redis.Redis.from_url(with_db(self.base_url, db), socket_timeout=5) as client:
                if client.dbsize() != 0:
                    continue
                if client.set(LEASE_KEY, self.token, nx=True, ex=LEASE_TTL_S):
                    self.db = db
                    return self.url
        raise ServiceUnavailable(
            f"No free Redis database: all {count - 1} numbered databases hold data "
            "(another run, or your own data). Flush the ones you do not need."
        )

    def release(self) -> None:
        import redis

        if self.db is None:
            return
        with (
            contextlib.suppress(redis.RedisError),
            redis.Redis.from_url(self.url, socket_timeout=5) as client,
        ):
            # Flush only if the lease is still ours (it may have expired and moved on).
            if client.get(LEASE_KEY) in (self.token.encode(), None):
                client.flushdb()
        self.db = None

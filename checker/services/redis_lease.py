"""Per-run Redis namespaces: one logical database (``SELECT n``) leased per run.

A db is leased only when it is empty (so a user's own data on an external server is
never touched), with an expiring lease key set atomically (``SET NX EX``), and flushed
when the run ends.

With ``acl=True`` (the embedded server, whose default user has a password only the
checker knows) the run also gets an ACL user of its own, and the learner's URL names it:
it may use every data command on any key, but SELECT only its own db, and no command
that reaches other dbs or the server (FLUSHALL, MOVE, COPY, SWAPDB, MIGRATE, @admin:
CONFIG, ACL, DEBUG, SHUTDOWN, MONITOR...). Other runs' keys and a grading queue in db 0
are out of its reach. On an external server whose default user needs no password, any
client can act as that user: there, isolation between runs is only by db number.
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
    def __init__(self, base_url: str, *, acl: bool = False) -> None:
        self.base_url = base_url
        self.db: int | None = None
        self.token = secrets.token_hex(8)
        self.acl = acl
        self.user: str | None = None
        self.learner_url: str | None = None

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
                    self.learner_url = self._make_user(client) if self.acl else self.url
                    return self.learner_url
        raise ServiceUnavailable(
            f"No free Redis database: all {count - 1} numbered databases hold data "
            "(another run, or your own data). Flush the ones you do not need."
        )

    def _make_user(self, client) -> str:
        """An ACL user for this run (see the module's doc); its URL."""
        import redis

        user, password = f"lab_run_{self.token}", secrets.token_hex(16)
        rules = ["reset", "on", f">{password}", "~*", "&*", "+@all", "-@admin", "-flushall",
                 "-select", f"+select|{self.db}", "-move", "-copy", "-swapdb", "-migrate",
                 "+client|setname", "+client|getname", "+client|id", "+client|list",
                 "+client|info"]  # fmt: skip
        try:
            client.execute_command("ACL", "SETUSER", user, *rules)
        except redis.ResponseError:
            return self.url  # no ACLs here (Redis < 6): isolation by db number only
        self.user = user
        parts = urlsplit(self.url)
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}"))

    def release(self) -> None:
        import redis

        if self.user is not None:
            with (
                contextlib.suppress(redis.RedisError),
                redis.Redis.from_url(self.url, socket_timeout=5) as client,
            ):
                client.execute_command("ACL", "DELUSER", self.user)  # and its connections
            self.user = None
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

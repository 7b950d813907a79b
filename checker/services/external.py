"""External servers the user already runs: ``LAB_DATABASE_URL`` / ``LAB_REDIS_URL``.

We never start or stop these; we only check, quickly, that they answer.
"""

from __future__ import annotations

from ..errors import ServiceUnavailable
from .base import ServiceStatus, redact, redis_probe


class ExternalPostgres:
    name = "postgres"
    kind = "external"

    def __init__(self, url: str) -> None:
        self.url = url

    def ensure(self) -> str:
        import psycopg

        try:
            with psycopg.connect(self.url, connect_timeout=5) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            raise ServiceUnavailable(
                f"Cannot reach the PostgreSQL server in LAB_DATABASE_URL ({redact(self.url)}).",
                detail=f"{str(exc).strip()}\nCheck that the server runs and the URL is right, "
                "or unset LAB_DATABASE_URL to use the embedded PostgreSQL.",
            ) from None
        return self.url

    def status(self) -> ServiceStatus:
        import psycopg

        st = ServiceStatus("postgres", "external", running=False, url=redact(self.url))
        try:
            with psycopg.connect(self.url, connect_timeout=5) as conn:
                st.version = conn.execute("SHOW server_version").fetchone()[0]
                st.running = True
        except psycopg.Error as exc:
            st.details["error"] = str(exc).strip()
        return st

    def stop(self) -> bool:
        return False  # not ours to stop


class ExternalRedis:
    name = "redis"
    kind = "external"

    def __init__(self, url: str) -> None:
        self.url = url

    def ensure(self) -> str:
        import redis

        try:
            with redis_probe(self.url, 5) as client:
                client.ping()
        except redis.RedisError as exc:
            raise ServiceUnavailable(
                f"Cannot reach the Redis server in LAB_REDIS_URL ({redact(self.url)}).",
                detail=f"{exc}\nCheck that the server runs and the URL is right, "
                "or unset LAB_REDIS_URL to use the embedded Redis.",
            ) from None
        return self.url

    def status(self) -> ServiceStatus:
        import redis

        st = ServiceStatus("redis", "external", running=False, url=redact(self.url))
        try:
            with redis_probe(self.url, 5) as client:
                st.version = client.info("server").get("redis_version")
                st.running = True
        except redis.RedisError as exc:
            st.details["error"] = str(exc)
        return st

    def stop(self) -> bool:
        return False

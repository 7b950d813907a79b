"""Cache-aside on Redis: look in the cache first; on a miss, compute the answer from the
database and keep a copy for the next reader. Values are stored as JSON."""

import json
from collections.abc import Callable
from typing import Any

import redis

from app.core.config import settings

client = redis.Redis.from_url(str(settings.REDIS_URL))


def cached(key: str, compute: Callable[[], Any]) -> Any:
    """The value stored under ``key``; on a miss, ``compute()``'s, stored for next time."""
    # TODO: when Redis is down for maintenance, every page answers 500, although all
    # the data is right there in PostgreSQL.
    hit = client.get(key)
    if hit is not None:
        return json.loads(hit)
    value = compute()
    # TODO: Redis's memory only ever grows, and an answer cached once is served forever.
    client.set(key, json.dumps(value))
    return value


def invalidate(*keys: str) -> None:
    """Drop cached answers that are no longer true."""
    client.delete(*keys)

"""Cache-aside on Redis: look in the cache first; on a miss, compute the answer from the
database and keep a copy for the next reader. Values are stored as JSON.

Three rules keep a cache from hurting more than it helps:

* every entry expires (``ex=ttl``): memory stays bounded, and a missed invalidation is
  wrong for minutes, not forever;
* the cache is an optimisation, never a dependency: if Redis is down or slow, answer
  from the database (and say so in the log) instead of failing the request;
* on a miss, one request computes while the others wait for its answer ("single
  flight"), so an expired entry on a busy page costs one query, not a hundred.
"""

import contextlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.core.config import settings

log = logging.getLogger(__name__)

# Fail fast: redis-py's default retries with backoff would make every request wait
# seconds for a cache that is not there. A cache that cannot answer in 250 ms is down.
client = redis.Redis.from_url(
    str(settings.REDIS_URL),
    socket_connect_timeout=0.25,
    socket_timeout=0.25,
    retry=Retry(NoBackoff(), 0),
)

LOCK_TTL_MS = 5_000  # a computation that takes longer than this loses its lock
WAIT_S = 3.0  # how long a request waits for another one's computation


def _get(key: str) -> Any | None:
    hit = client.get(key)
    return None if hit is None else json.loads(hit)


def cached(key: str, compute: Callable[[], Any], *, ttl: int = settings.CACHE_TTL_SECONDS) -> Any:
    """The value stored under ``key``; on a miss, ``compute()``'s, stored for ``ttl`` s."""
    lock = f"lock:{key}"
    try:
        hit = _get(key)
        if hit is not None:
            return hit
        # Single flight: whoever takes the lock computes; the others wait for its answer.
        leader = client.set(lock, "1", nx=True, px=LOCK_TTL_MS)
        if leader:
            # The previous leader may have stored it between our read and our lock.
            hit = _get(key)
            if hit is not None:
                _release(lock)
                return hit
        else:
            deadline = time.monotonic() + WAIT_S
            while time.monotonic() < deadline:
                time.sleep(0.02)
                hit = _get(key)
                if hit is not None:
                    return hit
    except redis.RedisError as exc:
        log.warning("cache unavailable (%s); answering %s from the database", exc, key)
        return compute()
    try:
        value = compute()
        client.set(key, json.dumps(value), ex=ttl)
    except redis.RedisError as exc:
        log.warning("cache unavailable (%s); %s not stored", exc, key)
    finally:
        if leader:
            _release(lock)
    return value


def _release(lock: str) -> None:
    with contextlib.suppress(redis.RedisError):  # if not, it expires on its own
        client.delete(lock)


def invalidate(*keys: str) -> None:
    """Drop cached answers that are no longer true."""
    try:
        client.delete(*keys)
    except redis.RedisError as exc:
        # The entries expire on their own within the TTL: the staleness is bounded.
        log.warning("cache unavailable (%s); could not invalidate %s", exc, keys)

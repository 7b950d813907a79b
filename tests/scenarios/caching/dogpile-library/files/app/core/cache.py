"""The cache through a library: dogpile.cache's Redis backend instead of hand-written
cache-aside. Its region does the lookups, the expiry and the stampede lock ("dogpile"
lock: one caller computes, the others wait for its value)."""

import logging
from collections.abc import Callable
from typing import Any

import redis
from dogpile.cache import make_region

from app.core.config import settings

log = logging.getLogger(__name__)

region = make_region().configure(
    "dogpile.cache.redis",
    expiration_time=settings.CACHE_TTL_SECONDS,
    arguments={
        "url": str(settings.REDIS_URL),
        # Redis drops the key a little after dogpile considers it stale.
        "redis_expiration_time": settings.CACHE_TTL_SECONDS + 30,
        "distributed_lock": True,
        "thread_local_lock": False,
        "lock_timeout": 5,
        "socket_timeout": 0.25,
        "socket_connect_timeout": 0.25,
        "connection_kwargs": {"retry": None},
    },
)


def cached(key: str, compute: Callable[[], Any]) -> Any:
    try:
        return region.get_or_create(key, compute)
    except redis.RedisError as exc:
        log.warning("cache unavailable (%s); answering %s from the database", exc, key)
        return compute()


def invalidate(*keys: str) -> None:
    try:
        for key in keys:
            region.delete(key)
    except redis.RedisError as exc:
        log.warning("cache unavailable (%s); could not invalidate %s", exc, keys)

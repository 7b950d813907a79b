"""The search quota with the limits library: a moving window on Redis storage."""

import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.core.config import settings

log = logging.getLogger(__name__)

POLICY = "search"
QUOTA = settings.RATE_LIMIT_QUOTA
WINDOW_S = settings.RATE_LIMIT_WINDOW_SECONDS

storage = RedisStorage(
    str(settings.REDIS_URL),
    wrap_exceptions=True,
    socket_timeout=settings.REDIS_TIMEOUT_SECONDS,
    socket_connect_timeout=settings.REDIS_TIMEOUT_SECONDS,
    retry=Retry(NoBackoff(), 0),
)
limiter = MovingWindowRateLimiter(storage)
SEARCHES = RateLimitItemPerSecond(QUOTA, WINDOW_S)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int
    reset: int
    retry_after: int


def hit(redis: Redis, caller: str) -> Decision | None:
    try:
        allowed = limiter.hit(SEARCHES, caller)
        stats = limiter.get_window_stats(SEARCHES, caller)
    except StorageError as exc:
        log.warning("rate limiter unavailable, searching without a limit: %r", exc)
        return None
    reset = max(0, math.ceil(stats.reset_time - time.time()))
    return Decision(
        allowed=allowed,
        remaining=stats.remaining if allowed else 0,
        reset=reset,
        retry_after=max(1, reset),
    )


def headers(decision: Decision) -> dict[str, str]:
    return {
        "RateLimit-Policy": f'"{POLICY}";q={QUOTA};w={WINDOW_S}',
        "RateLimit": f'"{POLICY}";r={decision.remaining};t={decision.reset}',
    }

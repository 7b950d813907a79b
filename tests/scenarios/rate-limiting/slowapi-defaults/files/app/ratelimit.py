"""The search quota with limits' in-memory storage (slowapi's default, memory://)."""

import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from redis import Redis

from app.core.config import settings

POLICY = "search"
QUOTA = settings.RATE_LIMIT_QUOTA
WINDOW_S = settings.RATE_LIMIT_WINDOW_SECONDS

limiter = MovingWindowRateLimiter(MemoryStorage())
SEARCHES = RateLimitItemPerSecond(QUOTA, WINDOW_S)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int
    reset: int
    retry_after: int


def hit(redis: Redis, caller: str) -> Decision | None:
    allowed = limiter.hit(SEARCHES, caller)
    stats = limiter.get_window_stats(SEARCHES, caller)
    reset = max(0, math.ceil(stats.reset_time - time.time()))
    return Decision(allowed, stats.remaining if allowed else 0, reset, max(1, reset))


def headers(decision: Decision) -> dict[str, str]:
    return {
        "RateLimit-Policy": f'"{POLICY}";q={QUOTA};w={WINDOW_S}',
        "RateLimit": f'"{POLICY}";r={decision.remaining};t={decision.reset}',
    }

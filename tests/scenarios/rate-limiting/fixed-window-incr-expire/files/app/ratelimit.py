"""The search quota in fixed windows: INCR a key per caller per window."""

import logging
import math
import time
from dataclasses import dataclass

from redis import Redis, RedisError

from app.core.config import settings

log = logging.getLogger(__name__)

POLICY = "search"
QUOTA = settings.RATE_LIMIT_QUOTA
WINDOW_S = settings.RATE_LIMIT_WINDOW_SECONDS


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int
    reset: int
    retry_after: int


def hit(redis: Redis, caller: str) -> Decision | None:
    now = time.time()
    window = int(now // WINDOW_S)
    name = f"ratelimit:{caller}:{window}"
    try:
        with redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, WINDOW_S)
            count, _ = pipe.execute()
    except RedisError as exc:
        log.warning("rate limiter unavailable, searching without a limit: %r", exc)
        return None
    reset = max(1, math.ceil((window + 1) * WINDOW_S - now))
    allowed = count <= QUOTA
    return Decision(allowed, max(0, QUOTA - count) if allowed else 0, reset, reset)


def headers(decision: Decision) -> dict[str, str]:
    return {
        "RateLimit-Policy": f'"{POLICY}";q={QUOTA};w={WINDOW_S}',
        "RateLimit": f'"{POLICY}";r={decision.remaining};t={decision.reset}',
    }

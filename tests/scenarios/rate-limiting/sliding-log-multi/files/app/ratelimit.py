"""The search quota as a sliding log: a sorted set of the last WINDOW_S seconds' searches."""

import logging
import math
import uuid
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
    name = f"ratelimit:{caller}"
    member = uuid.uuid4().hex
    try:
        sec, usec = redis.time()
        now = sec + usec / 1_000_000
        with redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(name, 0, now - WINDOW_S)
            pipe.zadd(name, {member: now})
            pipe.zcard(name)
            pipe.pexpire(name, WINDOW_S * 1000)
            _, _, count, _ = pipe.execute()
        allowed = count <= QUOTA
        if not allowed:
            redis.zrem(name, member)
        oldest = redis.zrange(name, 0, 0, withscores=True)
    except RedisError as exc:
        log.warning("rate limiter unavailable, searching without a limit: %r", exc)
        return None
    # When the oldest search leaves the log, one more is allowed.
    frees = max(0, math.ceil(oldest[0][1] + WINDOW_S - now)) if oldest else 0
    return Decision(
        allowed=allowed,
        remaining=max(0, QUOTA - count) if allowed else 0,
        reset=frees,
        retry_after=max(1, frees),
    )


def headers(decision: Decision) -> dict[str, str]:
    return {
        "RateLimit-Policy": f'"{POLICY}";q={QUOTA};w={WINDOW_S}',
        "RateLimit": f'"{POLICY}";r={decision.remaining};t={decision.reset}',
    }

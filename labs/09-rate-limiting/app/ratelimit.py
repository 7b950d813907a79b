"""The search quota: QUOTA searches per WINDOW_S seconds for each caller.

Counted in Redis, so that every instance of the service counts the same searches. The
answer carries the quota in the fields of draft-ietf-httpapi-ratelimit-headers:

    RateLimit-Policy: "search";q=10;w=5     the policy: 10 searches per 5 seconds
    RateLimit: "search";r=3;t=2             3 searches left; the quota resets in 2 s
"""

import time
from dataclasses import dataclass

from redis import Redis

from app.core.config import settings

POLICY = "search"
QUOTA = settings.RATE_LIMIT_QUOTA
WINDOW_S = settings.RATE_LIMIT_WINDOW_SECONDS

# Anonymous callers are few, so they are counted here, in the process: no Redis round
# trip for them.
_anonymous: dict[str, int] = {}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int  # searches left now
    reset: int  # seconds until the quota is whole again
    retry_after: int  # refused: when to try again


def hit(redis: Redis, caller: str) -> Decision:
    """Counts one search for the caller, in fixed windows of WINDOW_S seconds."""
    now_ms = int(time.time() * 1000)
    window = now_ms // (WINDOW_S * 1000)
    # TODO: a client waiting Retry-After seconds waits over an hour.
    reset_ms = (window + 1) * WINDOW_S * 1000 - now_ms
    reset = -(-reset_ms // 1000)  # rounded up

    if caller.startswith("address:"):
        # TODO: behind our two instances, anonymous scrapers get twice the quota.
        name = f"{caller}:{window}"
        count = _anonymous.get(name, 0)
        if count < QUOTA:
            _anonymous[name] = count + 1
    else:
        # TODO: many searches at once all get through; Redis also keeps every window's key.
        name = f"ratelimit:{caller}:{window}"
        count = int(redis.get(name) or 0)
        if count < QUOTA:
            redis.set(name, count + 1)

    if count >= QUOTA:
        return Decision(allowed=False, remaining=0, reset=reset, retry_after=reset_ms)
    return Decision(allowed=True, remaining=QUOTA - count, reset=reset, retry_after=0)


def headers(decision: Decision) -> dict[str, str]:
    return {
        "RateLimit-Policy": f'"{POLICY}";q={QUOTA};w={WINDOW_S}',
        "RateLimit": f'"{POLICY}";r={decision.remaining};t={decision.reset}',
    }

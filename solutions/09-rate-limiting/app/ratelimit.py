"""The search quota: QUOTA searches per WINDOW_S seconds for each caller.

Counted in Redis, so that every instance of the service counts the same searches. The
answer carries the quota in the fields of draft-ietf-httpapi-ratelimit-headers:

    RateLimit-Policy: "search";q=10;w=5     the policy: 10 searches per 5 seconds
    RateLimit: "search";r=3;t=2             3 searches left; the quota is whole in 2 s

The algorithm is GCRA (the generic cell rate algorithm), a token bucket kept as a single
timestamp per caller: the "theoretical arrival time" (TAT) at which the caller's bucket
would be full again. Each search pushes it WINDOW_S / QUOTA seconds further; a search
that would push it more than WINDOW_S into the future is refused. A caller may burst
QUOTA searches, then gets one back every WINDOW_S / QUOTA seconds: there is no window
edge at which a second full burst is allowed.
"""

import logging
import math
from dataclasses import dataclass

from redis import Redis, RedisError

from app.core.config import settings

log = logging.getLogger(__name__)

POLICY = "search"
QUOTA = settings.RATE_LIMIT_QUOTA
WINDOW_S = settings.RATE_LIMIT_WINDOW_SECONDS
WINDOW_US = WINDOW_S * 1_000_000
INTERVAL_US = WINDOW_US // QUOTA  # one search comes back every 500 ms

# One script, so Redis runs the read and the write as one step: no other request can
# read the TAT between them, from this instance or another. Redis's own clock, so the
# instances' clocks never disagree. Times in integer microseconds (exact in a Lua number).
# Returns {allowed, microseconds until the bucket is full, microseconds until a search is
# allowed again}; the key expires when the bucket is full again, as if never used.
_GCRA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local interval, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or now), now)
local new_tat = tat + interval
if new_tat - now > window then
    return {0, tat - now, new_tat - window - now}
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return {1, new_tat - now, 0}
"""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int  # searches left now
    reset: int  # seconds until the quota is whole again
    retry_after: int  # refused: when to try again


def hit(redis: Redis, caller: str) -> Decision | None:
    """Counts one search for the caller. None if Redis can't be reached: search is a
    read, so we serve it without a limit (fail open) rather than fail every search, and
    say so in the log. A limiter guarding a write would fail closed instead."""
    try:
        allowed, busy_us, wait_us = redis.register_script(_GCRA)(
            keys=[f"ratelimit:{caller}"], args=[INTERVAL_US, WINDOW_US]
        )
    except RedisError as exc:
        log.warning("rate limiter unavailable, searching without a limit: %r", exc)
        return None
    return Decision(
        allowed=bool(allowed),
        remaining=max(0, (WINDOW_US - busy_us) // INTERVAL_US) if allowed else 0,
        reset=math.ceil(busy_us / 1_000_000),
        # Retry-After is in whole seconds (RFC 9110, section 10.2.3): round up, at least 1.
        retry_after=max(1, math.ceil(wait_us / 1_000_000)),
    )


def headers(decision: Decision) -> dict[str, str]:
    return {
        "RateLimit-Policy": f'"{POLICY}";q={QUOTA};w={WINDOW_S}',
        "RateLimit": f'"{POLICY}";r={decision.remaining};t={decision.reset}',
    }

"""The search quota in the process: fast, exact, and never waiting on Redis."""

import math
import threading
import time
from dataclasses import dataclass

from redis import Redis

from app.core.config import settings

POLICY = "search"
QUOTA = settings.RATE_LIMIT_QUOTA
WINDOW_S = settings.RATE_LIMIT_WINDOW_SECONDS
INTERVAL = WINDOW_S / QUOTA

_tat: dict[str, float] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int
    reset: int
    retry_after: int


def hit(redis: Redis, caller: str) -> Decision | None:
    with _lock:
        now = time.monotonic()
        tat = max(_tat.get(caller, now), now)
        if tat + INTERVAL - now > WINDOW_S:
            wait = tat + INTERVAL - WINDOW_S - now
            return Decision(False, 0, math.ceil(tat - now), max(1, math.ceil(wait)))
        _tat[caller] = tat + INTERVAL
        busy = tat + INTERVAL - now
        return Decision(True, int((WINDOW_S - busy + 1e-9) // INTERVAL), math.ceil(busy), 0)


def headers(decision: Decision) -> dict[str, str]:
    return {
        "RateLimit-Policy": f'"{POLICY}";q={QUOTA};w={WINDOW_S}',
        "RateLimit": f'"{POLICY}";r={decision.remaining};t={decision.reset}',
    }

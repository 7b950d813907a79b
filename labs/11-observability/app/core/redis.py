"""Redis holds the login sessions: without it, nobody can log in or order."""

from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.core.config import settings

# Requests wait at most a second for Redis: a frozen Redis must not freeze every login.
sessions = Redis.from_url(
    str(settings.REDIS_URL), socket_timeout=1, socket_connect_timeout=1, decode_responses=True
)

# The readiness probe's own client: one try, a short timeout. The probe must answer
# within the orchestrator's deadline, and say "not ready" rather than hang or retry.
probe = Redis.from_url(
    str(settings.REDIS_URL),
    socket_timeout=0.5,
    socket_connect_timeout=0.5,
    retry=Retry(NoBackoff(), 0),
)

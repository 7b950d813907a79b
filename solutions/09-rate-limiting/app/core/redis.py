from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.core.config import settings

# One client for the process: it keeps a pool of connections, safe to share by threads.
# A limiter must never be why search is slow or down: give up on Redis after
# REDIS_TIMEOUT_SECONDS (connecting, and waiting for an answer), and don't retry.
redis_client = Redis.from_url(
    str(settings.REDIS_URL),
    decode_responses=True,
    socket_timeout=settings.REDIS_TIMEOUT_SECONDS,
    socket_connect_timeout=settings.REDIS_TIMEOUT_SECONDS,
    retry=Retry(NoBackoff(), 0),
)


def get_redis() -> Redis:
    return redis_client

from redis import Redis

from app.core.config import settings

# One client for the process: it keeps a pool of connections, safe to share by threads.
redis_client = Redis.from_url(str(settings.REDIS_URL), decode_responses=True)


def get_redis() -> Redis:
    return redis_client

"""The job queues. A worker process takes jobs from them and runs them, away from the
requests: `rq worker --with-scheduler webhooks emails` (`lab check` starts one for you)."""

import math
import time
from datetime import timedelta

from redis import Redis
from rq import Queue

from app.core.config import settings

redis = Redis.from_url(str(settings.REDIS_URL))

webhooks = Queue("webhooks", connection=redis)  # deliveries to merchants' endpoints
emails = Queue("emails", connection=redis)  # emails to customers


def retry_later(func: str, *args: object, delay: float) -> None:
    """Run ``func(*args, not_before)`` again in ``delay`` seconds.

    rq's scheduler counts whole seconds and looks once a second: right for waits of
    minutes, too coarse for a fraction of a second. A short wait is waited out by the job
    itself (its ``not_before`` argument), a long one is left to the scheduler."""
    if delay >= 10:
        webhooks.enqueue_in(timedelta(seconds=math.ceil(delay)), func, *args, 0.0)
    else:
        webhooks.enqueue(func, *args, time.time() + delay)

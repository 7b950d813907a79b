"""The job queues. A worker process takes jobs from them and runs them, away from the
requests: `rq worker --with-scheduler reports emails` (`lab check` starts one for you)."""

from redis import Redis
from rq import Queue

from app.core.config import settings

redis = Redis.from_url(str(settings.REDIS_URL))

# Handy while developing: with is_async=False a job runs right away, in the request,
# and no worker is needed.
# TODO: exporting a report keeps the browser waiting for seconds (and times out on a
# busy day).
reports = Queue("reports", connection=redis, is_async=False)
emails = Queue("emails", connection=redis)

"""The job queues. A worker process takes jobs from them and runs them, away from the
requests: `rq worker --with-scheduler reports emails` (`lab check` starts one for you)."""

from redis import Redis
from rq import Queue

from app.core.config import settings

redis = Redis.from_url(str(settings.REDIS_URL))

# A request only puts the job in the queue (a few ms) and answers 202: the seconds of
# work happen in the worker, and the client follows the job's status.
reports = Queue("reports", connection=redis)
emails = Queue("emails", connection=redis)

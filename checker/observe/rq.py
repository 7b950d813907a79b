"""RQ from the checks' side: the worker the run supervises, and jobs through rq's API.

``worker`` fixture (labs with ``worker`` in their services): a ``WorkerControl``::

    worker.kill()            # SIGKILL the worker mid-job (and its horse), as a crash
    worker.start()           # a new worker; wait_ready() until it listens
    worker.restart()         # both

Jobs are read the way any rq user reads them, never by importing learner code::

    job = rq_job(redis_url, job_id)       # rq.job.Job, or None
    job.get_status()                      # queued | started | finished | failed | ...
    registries(redis_url, "emails")       # {"queued": [...], "started": [...], ...}
    pending(connection(redis_url))        # jobs queued, running, scheduled...: 0 = idle
"""

from __future__ import annotations

import time
from typing import Any

import httpx


class WorkerControl:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def status(self) -> dict[str, Any]:
        """``{"pid", "alive", "ready", "starts", "exit_code"}`` of the current worker."""
        return httpx.get(self.url + "/status", timeout=10).json()

    def kill(self) -> dict[str, Any]:
        """SIGKILL the worker and everything it started, as a crash would; then expire
        what it held in Redis (its started jobs are retried or failed by rq, at once
        rather than after the heartbeat timeout). Returns ``{"killed", "abandoned"}``."""
        return httpx.post(self.url + "/kill", timeout=30).json()

    def start(self) -> int:
        return httpx.post(self.url + "/start", timeout=10).json()["pid"]

    def wait_ready(self, timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.status()["ready"]:
                return True
            time.sleep(0.05)
        return False

    def restart(self, timeout: float = 15.0) -> dict[str, Any]:
        killed = self.kill()
        self.start()
        killed["ready"] = self.wait_ready(timeout)
        return killed


def connection(redis_url: str):
    import redis

    return redis.Redis.from_url(redis_url)


def rq_job(redis_url: str, job_id: str):
    """The job with ``job_id``, or None if rq has no such job."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        return Job.fetch(job_id, connection=connection(redis_url))
    except NoSuchJobError:
        return None


def registries(redis_url: str, queue_name: str) -> dict[str, list[str]]:
    """Job ids in each of a queue's registries (rq's own API)."""
    from rq import Queue

    q = Queue(queue_name, connection=connection(redis_url))
    return {
        "queued": q.get_job_ids(),
        "started": q.started_job_registry.get_job_ids(),
        "scheduled": q.scheduled_job_registry.get_job_ids(),
        "deferred": q.deferred_job_registry.get_job_ids(),
        "finished": q.finished_job_registry.get_job_ids(),
        "failed": q.failed_job_registry.get_job_ids(),
    }


def queue_names(redis_url: str) -> list[str]:
    from rq import Queue

    return [q.name for q in Queue.all(connection=connection(redis_url))]


def pending(conn) -> int:
    """How many jobs rq has not finished with (``conn``: a Redis connection), over every
    queue it knows: queued (or just taken, in rq's intermediate list), running, scheduled
    (a retry with an interval, ``enqueue_in``) or deferred (waiting for another job). A
    job a worker has just popped is in none of these for the moment before it is marked
    running: see 0 twice, a little apart, before concluding that nothing is left."""
    from rq import Queue

    queues = Queue.all(connection=conn)
    if not queues:
        return 0
    with conn.pipeline(transaction=False) as pipe:
        for q in queues:
            pipe.llen(q.key)
            pipe.llen(q.intermediate_queue_key)
            pipe.zcard(q.started_job_registry.key)
            pipe.zcard(q.scheduled_job_registry.key)
            pipe.zcard(q.deferred_job_registry.key)
        return sum(int(n) for n in pipe.execute())

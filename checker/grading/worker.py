"""`lab worker --redis URL`: an RQ worker that runs grading jobs.

Start one per core on any machine that has the course (the instructor's copy: its
lab.toml files and hidden checks are the trusted ones) and reaches the shared Redis.
Each job runs in a work horse forked by RQ; the PostgreSQL and Redis the checks use are
this machine's own (embedded, or LAB_DATABASE_URL / LAB_REDIS_URL), started before the
first job.
"""

from __future__ import annotations

import os
import socket

from rich.console import Console

from ..paths import course_root, state_dir
from ..services import providers, redact
from .grade import QUEUE, protect


def work(redis_url: str, *, burst: bool, name: str | None, console: Console) -> None:
    from redis import Redis
    from rq import Queue, Worker

    state = state_dir(course_root())
    for p in providers(state).all():
        url = p.ensure()
        console.print(f"{p.name:8} {p.kind:8} {redact(url)}")
    _warm_fork_servers(state, console)
    conn = Redis.from_url(redis_url)
    conn.ping()
    protect(conn)
    worker_name = name or f"lab-{socket.gethostname()}-{os.getpid()}"
    console.print(f"worker {worker_name} on {redact(redis_url)}, queue {QUEUE}")
    Worker([Queue(QUEUE, connection=conn)], connection=conn, name=worker_name).work(
        burst=burst, logging_level="WARNING", with_scheduler=False
    )


def _warm_fork_servers(state, console: Console, timeout_s: float = 30.0) -> None:
    """Start both fork servers before the first job: every job's service, checks and
    sidecars are then forked, so the first job is as fast as the others, and what a job
    started dies with its work horse even if the horse is killed (the fork servers watch
    each caller's lifeline; a plain start has none)."""
    import time

    from ..zygote import Zygote, enabled

    if not enabled():
        return
    servers = [z for z in (Zygote(state), Zygote(state, trusted=True)) if z.usable()]
    for z in servers:
        z.start_in_background()
    deadline = time.monotonic() + timeout_s
    while not all(z.ready() for z in servers) and time.monotonic() < deadline:
        time.sleep(0.1)
    if all(z.ready() for z in servers):
        console.print("fork servers ready")
    else:  # jobs still run: each starts its processes the plain way until they are
        console.print(f"fork servers not ready after {timeout_s:.0f} s; starting anyway")

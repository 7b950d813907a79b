"""Loaded into locust's own process by ``checker.observe.load`` (``-f theirs.py,this.py``),
never into the checker or a check's pytest process.

Every ``LAB_LOCUST_INTERVAL`` seconds it appends one JSON line to the file named by
``LAB_LOCUST_PROGRESS``: the users running, and the requests, failures, throughput and
latency percentiles of that interval alone (not a sliding window), so the checker can
show live progress and a notebook can plot a run over time. The final statistics come
from locust's own ``--json-file``, written once the run is over.

Each sample also lists the endpoints answered so far (``"endpoints"``: ``"GET /books/{}"``,
the method and the path actually requested, each segment with a digit shown as ``{}``),
whatever names the locustfile gave its rows: what a run really exercised. And the
users' pauses between tasks: ``"pauses"`` how many, ``"pause_s"`` the seconds their
wait_time asked for in all, whatever computes it.
"""

from __future__ import annotations

import json
import os
import re
import time
from urllib.parse import urlsplit

import gevent
from locust import events
from locust.user.task import TaskSet

# A run prepared ahead (``checker.observe.load.prepare_locust``) waits here, locust and
# the locustfile loaded, until the checker says go: no user starts, no timer runs. A
# checker that goes away without a word leaves no locust behind for long.
_GO = os.environ.get("LAB_LOCUST_GO")
if _GO:
    with open(_GO + ".ready", "w"):  # loaded: what the checker waits for before measuring
        pass
    _give_up = time.monotonic() + float(os.environ.get("LAB_LOCUST_GO_TIMEOUT", "300"))
    while not os.path.exists(_GO):
        if time.monotonic() > _give_up:
            os._exit(3)
        time.sleep(0.01)


def _percentile(histogram: dict[int, int], count: int, q: float) -> int:
    """The q-quantile of locust's response-time histogram (rounded ms -> count)."""
    if count <= 0:
        return 0
    seen = 0
    for ms in sorted(histogram):
        seen += histogram[ms]
        if seen >= q * count:
            return ms
    return max(histogram)


_ENDPOINTS: set[str] = set()
_ID_SEGMENT = re.compile(r"/[^/]*\d[^/]*")


@events.request.add_listener
def _record_endpoint(request_type, exception=None, url=None, response=None, **_kwargs):
    if exception is None and url:
        path = _ID_SEGMENT.sub("/{}", urlsplit(str(url)).path).rstrip("/") or "/"
        _ENDPOINTS.add(f"{request_type} {path}")


#: The pauses the users took between two tasks: what their wait_time asked for, each time
#: (locust's TaskSet.wait sleeps through ``_sleep``, for a User's own tasks too). Counted
#: where the pause is asked, not timed: neither a slow service nor a busy machine changes
#: it, and a task that makes several requests still counts one pause.
_PAUSES = {"pauses": 0, "pause_s": 0.0}
_SLEEP = TaskSet._sleep


def _counted_sleep(self, seconds):
    try:
        pause = float(seconds)
    except (TypeError, ValueError):
        pause = None
    if pause is not None and pause >= 0:
        _PAUSES["pauses"] += 1
        _PAUSES["pause_s"] += pause
    return _SLEEP(self, seconds)


TaskSet._sleep = _counted_sleep


@events.init.add_listener
def _start_progress(environment, **_kwargs):
    path = os.environ.get("LAB_LOCUST_PROGRESS")
    if not path:
        return
    interval = float(os.environ.get("LAB_LOCUST_INTERVAL", "0.5"))

    def loop() -> None:
        last_t, last_n, last_f, last_hist = time.time(), 0, 0, {}
        with open(path, "a", encoding="utf-8") as out:
            while True:
                gevent.sleep(interval)
                now = time.time()
                total = environment.stats.total  # replaced when the test starts
                n, f = total.num_requests, total.num_failures
                hist = dict(total.response_times)
                delta = {k: v - last_hist.get(k, 0) for k, v in hist.items()}
                delta = {k: v for k, v in delta.items() if v > 0}
                count = n - last_n
                runner = environment.runner
                sample = {
                    "t": round(now, 3),
                    "users": runner.user_count if runner is not None else 0,
                    "requests": n,
                    "failures": f,
                    "rps": round(count / max(now - last_t, 1e-6), 2),
                    "fails_per_s": round((f - last_f) / max(now - last_t, 1e-6), 2),
                    "p50_ms": _percentile(delta, count, 0.50),
                    "p95_ms": _percentile(delta, count, 0.95),
                    "p99_ms": _percentile(delta, count, 0.99),
                    "cpu_s": round(time.process_time(), 3),
                    "endpoints": sorted(_ENDPOINTS),
                    "pauses": _PAUSES["pauses"],
                    "pause_s": round(_PAUSES["pause_s"], 3),
                }
                out.write(json.dumps(sample) + "\n")
                out.flush()
                last_t, last_n, last_f, last_hist = now, n, f, hist

    gevent.spawn(loop)

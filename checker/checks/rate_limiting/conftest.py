"""The two checks that must wait on the service's clock start at the very beginning of
the run, each in a thread of its own, and are judged in their turn (``_timed.py``).

A Retry-After of up to 5 s, and a window's edge up to 5 s away: waited one after the
other, they would make every run 10 s longer. Started together at the first check,
their waits pass while the other checks run (each on callers of its own). The checks
that cut or slow the Redis link run after they have been judged, or only slow them.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import pytest
from _timed import PHASES

from checker.pytest_plugin import check_id_of


@pytest.fixture(scope="session", autouse=True)
def timed(request: pytest.FixtureRequest):
    """{check id: Future} for the selected timed checks, started now."""
    selected = {check_id_of(item) for item in request.session.items}
    pool = ThreadPoolExecutor(len(PHASES), thread_name_prefix="timed-check")
    started: dict[str, Future] = {
        cid: pool.submit(phase) for cid, phase in PHASES.items() if cid in selected
    }
    try:
        yield started
    finally:
        pool.shutdown(wait=False, cancel_futures=True)

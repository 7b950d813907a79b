"""Retry-After, and the window's edge: judged here, run from the start (``_timed.py``)."""

#: A phase takes at most a Retry-After (5 s) or a window (5 s), and its searches.
TIMEOUT_S = 30


def test_over_quota_429_retry_after(timed, note):
    note(timed["over_quota_429_retry_after"].result(timeout=TIMEOUT_S))


def test_no_double_burst_at_window_edge(timed, note):
    note(timed["no_double_burst_at_window_edge"].result(timeout=TIMEOUT_S))

import pytest
from _helpers import LOCK_TIMEOUT_MAX_S, SAMPLING_SLACK_S, episodes, need
from timeline import MIGRATION_APP

from checker.verdict import fail


@pytest.mark.check("expand_gives_up_on_locks")
def test_expand_gives_up_within_its_lock_timeout(rollout, measure, note):
    rec = rollout
    start, end = rec.blocker
    waited = episodes(rec, MIGRATION_APP, start, end)
    if not waited:
        need(rec, "expand")
        fail("never-waited", "while an analyst's transaction held customers, `alembic upgrade "
             "expand` never waited for a lock on it; expected its ALTER TABLE customers to wait, "
             "then give up")  # fmt: skip
    longest = max(b - a for a, b in waited)
    measure("expand_longest_lock_wait_s", round(longest, 2))
    worst = [r for r in rec.requests if start <= r.t0 <= end]
    slowest = max((r.t1 - r.t0 for r in worst), default=0.0)
    measure("v1_slowest_during_blocker_s", round(slowest, 2))
    if longest > LOCK_TIMEOUT_MAX_S + SAMPLING_SLACK_S:
        fail("no-lock-timeout",
             f"behind an analyst's open transaction on customers, `alembic upgrade expand` waited "
             f"{longest:.1f} s for its lock, and v1's requests queued behind it (the slowest took "
             f"{slowest:.1f} s); expected it to give up within a lock_timeout of at most "
             f"{LOCK_TIMEOUT_MAX_S:.0f} s (and be run again, or retry)")  # fmt: skip
    bound = longest + 1.0 + SAMPLING_SLACK_S
    if slowest > bound:
        fail("requests-waited", f"a v1 request sent while the analyst's transaction was open took "
             f"{slowest:.1f} s; expected at most the migration's lock wait ({longest:.1f} s) + 1 s")  # fmt: skip
    need(rec, "expand")
    note(f"gave up after {longest:.1f} s; v1's slowest request then: {slowest:.1f} s")

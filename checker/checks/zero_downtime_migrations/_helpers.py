"""What the checks share: reading the rollout's record (timeline.py)."""

from __future__ import annotations

from migrate import statements_with_messages
from timeline import MIGRATION_APP, Record

from checker.verdict import fail

#: The README's bound on lock_timeout, and how late a sample may see its end.
LOCK_TIMEOUT_MAX_S = 3.0
SAMPLING_SLACK_S = 0.5
#: How long the migration may hold a lock that stops order inserts: catalog-only steps
#: hold it for milliseconds, a one-step foreign key for as long as checking every order
#: takes (measured in the same run): at most half of that, and never less than 0.1 s.
BRIEF_HOLD_S = 0.1
SCAN_SHARE = 0.5


def need(rec: Record, target: str) -> None:
    """Fail, saying why, when the migration a check judges never succeeded."""
    if rec.succeeded(target):
        return
    runs = rec.runs(target)
    if not runs:
        why = rec.error or f"the rollout stopped before `alembic upgrade {target}`"
        fail("rollout-stopped", f"`alembic upgrade {target}` never ran: {why}")
    last = runs[-1]
    state = "did not finish in time" if last.code is None else f"exited with {last.code}"
    fail(
        f"{target}-failed",
        f"`alembic upgrade {target}` {state}, so this could not be judged. The end of its "
        f"output:\n{last.tail()}",
    )


def ddl_messages(rec: Record) -> list[tuple[str, str, list[str]]]:
    """(revision, statement, DEBUG messages) of every statement the revisions sent."""
    out = []
    for target in ("expand", "contract"):
        for m in rec.runs(target):
            for stmt, msgs in statements_with_messages(m.events):
                out.append((target, stmt, msgs))
    return out


def holds(rec: Record, rel: str, modes: set[str]) -> list[tuple[float, float]]:
    """Intervals (start, end) during which the migration held one of ``modes`` on ``rel``,
    as the sampler saw them (contiguous samples)."""
    spans: list[tuple[float, float]] = []
    start = last = None
    for s in rec.samples:
        held = any(
            lk.app == MIGRATION_APP and lk.rel == rel and lk.granted and lk.mode in modes
            for lk in s.locks
        )
        if held:
            start = s.t if start is None else start
            last = s.t
        elif start is not None:
            spans.append((start, s.t))
            start = last = None
    if start is not None:
        spans.append((start, last))
    return spans


def episodes(rec: Record, app: str, since: float, until: float,
             gap: float = 0.1) -> list[tuple[float, float]]:  # fmt: skip
    """Lock waits of ``app``'s backends that began between ``since`` and ``until``, as
    (start, end): one wait lasts while its backend keeps waiting in the same transaction,
    with no pause longer than ``gap`` between two samples (a retry after a give-up is a
    new wait, even in the same transaction, under a savepoint)."""
    spans: list[tuple[float, float]] = []
    open_: dict[int, list] = {}
    for s in rec.samples:
        for lk in s.locks:
            if lk.granted or lk.app != app:
                continue
            cur = open_.get(lk.pid)
            if cur and cur[2] == lk.vxid and s.t - cur[1] <= gap:
                cur[1] = s.t
            else:
                if cur:
                    spans.append((cur[0], cur[1]))
                open_[lk.pid] = [s.t, s.t, lk.vxid]
    spans += [(a, b) for a, b, _ in open_.values()]
    return sorted((a, b) for a, b in spans if since <= a <= until)


def transactions(rec: Record, rel: str, mode: str, since: float,
                 until: float) -> list[int]:  # fmt: skip
    """In how many samples each transaction of the migration (by vxid) held ``mode`` on
    ``rel`` between ``since`` and ``until``: about its share of the time, whatever the
    machine's speed (a sample every 20 ms)."""
    seen: dict[tuple[int, str], int] = {}
    for s in rec.samples:
        if not since <= s.t <= until:
            continue
        for key in {(lk.pid, lk.vxid) for lk in s.locks
                    if lk.app == MIGRATION_APP and lk.rel == rel and lk.granted
                    and lk.mode == mode}:  # fmt: skip
            seen[key] = seen.get(key, 0) + 1
    return list(seen.values())


def waits(rec: Record, app: str | None = None, on: set[int] | None = None,
          rel: str | None = None) -> dict[tuple[int, str], list[float]]:  # fmt: skip
    """Sample times at which a backend waited for a lock, by (pid, vxid): ``app`` names
    whose backends (None: anyone but the migration), ``on`` the pids it waited behind,
    ``rel`` the relation it waited for."""
    out: dict[tuple[int, str], list[float]] = {}
    for s in rec.samples:
        for lk in s.locks:
            if lk.granted:
                continue
            if app is None and lk.app == MIGRATION_APP:
                continue
            if app is not None and lk.app != app:
                continue
            if on is not None and not on.intersection(lk.blockers):
                continue
            if rel is not None and lk.rel != rel:
                continue
            out.setdefault((lk.pid, lk.vxid), []).append(s.t)
    return out

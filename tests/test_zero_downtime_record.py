"""Lab 12's record readers (checker/checks/zero_downtime_migrations): how a DEBUG
message is tied to its statement, and how sampled locks become waits and transactions.
The rollout itself is proven by the lab's self-verification (tests/test_selfcheck.py)."""

from __future__ import annotations

import sys

import pytest

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "checker" / "checks" / "zero_downtime_migrations"))

from _helpers import episodes, transactions  # noqa: E402
from migrate import parse, statements_with_messages  # noqa: E402
from timeline import MIGRATION_APP, Lock, Record, Sample  # noqa: E402

# Their plain names stay this module's: no other test imports another lab's `_helpers`.
sys.path.remove(str(ROOT / "checker" / "checks" / "zero_downtime_migrations"))
for _name in ("_helpers", "migrate", "timeline"):
    sys.modules.pop(_name)


def test_each_message_belongs_to_the_last_statement_of_its_connection():
    out = "\n".join([
        "INFO  [alembic] noise",
        'LABEVENT {"pid": 1, "statement": "ALTER TABLE t ADD CONSTRAINT c CHECK (a) NOT VALID"}',
        'LABEVENT {"pid": 2, "statement": "SELECT 1"}',
        'LABEVENT {"pid": 1, "statement": "ALTER TABLE t VALIDATE CONSTRAINT c"}',
        'LABEVENT {"pid": 1, "severity": "DEBUG", "message": "verifying table \\"t\\""}',
        'LABEVENT {"pid": 2, "severity": "DEBUG", "message": "from the other connection"}',
        "LABEVENT {not json",
    ])  # fmt: skip
    got = statements_with_messages(parse(out))
    assert got == [
        ("ALTER TABLE t ADD CONSTRAINT c CHECK (a) NOT VALID", []),
        ("SELECT 1", ["from the other connection"]),
        ("ALTER TABLE t VALIDATE CONSTRAINT c", ['verifying table "t"']),
    ]


def _record(rows: list[tuple[float, list[Lock]]]) -> Record:
    rec = Record()
    rec.samples = [Sample(t, locks) for t, locks in rows]
    return rec


def _wait(vxid: str) -> Lock:
    return Lock(7, MIGRATION_APP, "relation", "customers", "AccessExclusiveLock", False, vxid, [9])


STEPS = [round(0.02 * n, 2) for n in range(21)]  # a sample every 20 ms, 0 to 0.4 s


@pytest.mark.parametrize(
    ("times", "new_vxid_from", "expected"),
    [
        (STEPS, None, [(0.0, 0.4)]),  # one wait, seen throughout
        ([t for t in STEPS if not 0.1 < t < 0.3], None, [(0.0, 0.1), (0.3, 0.4)]),  # a pause
        (STEPS, 0.22, [(0.0, 0.2), (0.22, 0.4)]),  # another transaction: another wait
    ],
    ids=["one-wait", "retry-after-a-pause", "new-transaction"],
)
def test_a_wait_ends_with_a_pause_or_a_new_transaction(times, new_vxid_from, expected):
    rows = [(t, [_wait("3/2" if new_vxid_from and t >= new_vxid_from else "3/1")]) for t in times]
    got = episodes(_record(rows), MIGRATION_APP, 0.0, 1.0)
    assert [(round(a, 2), round(b, 2)) for a, b in got] == expected


def test_transactions_are_told_apart_by_their_vxid():
    def held(vxid):
        return Lock(7, MIGRATION_APP, "relation", "customers", "RowExclusiveLock", True, vxid, [])

    rows = [(0.0, [held("3/1")]), (0.1, [held("3/1")]), (0.2, [held("3/2")]),
            (0.3, [held("3/2")]), (0.5, [held("3/2")]), (0.6, [])]  # fmt: skip
    seen = transactions(_record(rows), "customers", "RowExclusiveLock", 0.0, 1.0)
    assert sorted(seen) == [2, 3]  # samples per transaction

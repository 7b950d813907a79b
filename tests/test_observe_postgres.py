"""checker.observe.postgres on a real server (embedded, or LAB_DATABASE_URL's):
statements scoped to one database, plans of captured statements as trees."""

from __future__ import annotations

import json
import os

import psycopg
import pytest

from checker.observe.postgres import (
    StatementLog,
    StatementsEvicted,
    enable_steps,
    explain,
    explain_captured,
    parse_plan,
)
from checker.paths import state_dir
from checker.services import providers
from checker.services.databases import create_run_database, drop_database, ensure_template

from .conftest import ROOT

SEED = [
    "CREATE TABLE item (id int PRIMARY KEY, owner int NOT NULL, kind text NOT NULL)",
    "INSERT INTO item SELECT g, g % 500, CASE WHEN g % 3 = 0 THEN 'red' ELSE 'blue' END"
    " FROM generate_series(1, 20000) g",
    "ANALYZE item",
]


@pytest.fixture(scope="module")
def admin_url() -> str:
    return providers(state_dir(ROOT)).postgres.ensure()


@pytest.fixture(scope="module")
def template(admin_url: str) -> str:
    return ensure_template(admin_url, "lab_tpl_observe_test_1", SEED)


@pytest.fixture
def run_db(admin_url: str, template: str):
    name, url = create_run_database(admin_url, template, "observe")
    yield url
    drop_database(admin_url, name)


@pytest.fixture
def other_db(admin_url: str, template: str):
    name, url = create_run_database(admin_url, template, "other")
    yield url
    drop_database(admin_url, name)


def test_statements_are_counted_per_database_with_calls_and_rows(admin_url, run_db, other_db):
    with (
        StatementLog(admin_url, run_db) as log,
        StatementLog(admin_url, other_db) as other_log,
        psycopg.connect(run_db) as mine,
        psycopg.connect(other_db, autocommit=True) as theirs,
    ):
        other_log.reset()
        theirs.execute("SELECT count(*) FROM item")
        returned = 0
        with log.capture() as got:
            for owner in range(5):  # a loop of one statement: the N+1 shape
                sql = "SELECT id FROM item WHERE owner = %s AND id < 600"
                returned += len(mine.execute(sql, (owner,)).fetchall())
            mine.commit()
            theirs.execute("SELECT 42")  # another database: never counted here
        assert got.calls == 5, got
        assert len(got) == 1, "literals are normalised into one statement"
        assert got[0].rows == returned == 9, "pg_stat_statements counts the rows returned"
        assert got[0].touches("item") and not got[0].touches("ite")
        assert all(not s.query.upper().startswith(("BEGIN", "COMMIT")) for s in got)
        # The reset of one database left the other one's statements alone.
        seen_there = other_log.read()
        assert {"SELECT count(*) FROM item", "SELECT $1"} <= {s.query for s in seen_there}
        assert got.describe().startswith("5x SELECT id FROM item WHERE owner = $1")


def test_a_capture_waits_for_open_transactions_to_end(admin_url, run_db):
    with StatementLog(admin_url, run_db) as log, psycopg.connect(run_db) as conn:
        log.reset()
        conn.execute("SELECT id FROM item WHERE owner = 1")  # a transaction left open
        assert log.settle(timeout_s=0.2) is False
        conn.rollback()
        assert log.settle(timeout_s=2) is True
        assert log.read().calls == 1


def test_control_statements_can_be_included(admin_url, run_db):
    with StatementLog(admin_url, run_db) as log, psycopg.connect(run_db) as conn:
        with log.capture():
            conn.execute("SELECT 1")
            conn.commit()
        everything = log.read(include_control=True)
        assert {s.verb for s in everything} >= {"BEGIN", "COMMIT", "SELECT"}
        assert {s.verb for s in log.read()} == {"SELECT"}


def test_a_captured_statement_is_explained_with_the_values_the_check_sent(admin_url, run_db):
    query = "SELECT id FROM item WHERE kind = %s AND owner = %s ORDER BY id LIMIT %s"
    with StatementLog(admin_url, run_db) as log, psycopg.connect(run_db, autocommit=True) as db:
        with log.capture() as got:
            rows = db.execute(query, ("red", 7, 3)).fetchall()
        (statement,) = got
        assert "$1" in statement.query and "$3" in statement.query
        # The check knows what it sent, not the statement's parameter order: two ints,
        # told apart by the rows the answer had.
        plan = explain_captured(db, statement, [3, 7, "red"], expect_rows=len(rows))
        assert plan.rows_returned == 3
        # A Seq Scan, or the primary key walked in id order: either way, thousands read.
        assert plan.rows_read("item") > 1000 and plan.indexes <= {"item_pkey"}, plan.render()

        db.execute("CREATE INDEX item_owner_kind ON item (owner, kind, id)")
        db.execute("ANALYZE item")
        plan = explain_captured(db, statement, [3, 7, "red"], expect_rows=3, repeat=3)
        assert "Seq Scan" not in plan.node_types
        assert "item_owner_kind" in plan.indexes
        assert plan.rows_read("item") <= 20, plan.render()
        text = plan.render()
        assert "item_owner_kind" in text and "Execution time:" in text


def test_values_that_fit_no_parameter_are_refused(admin_url, run_db):
    with psycopg.connect(run_db, autocommit=True) as db:
        with pytest.raises(ValueError, match="do not fit"):
            explain_captured(db, "SELECT id FROM item WHERE owner = $1", ["not a number"])
        plan = explain(db, "SELECT id FROM item WHERE owner = $1", [4])
        assert plan.rows_returned == 40


def test_parse_plan_reads_fractional_rows_and_nested_nodes():
    document = json.dumps([{
        "Plan": {
            "Node Type": "Limit", "Actual Rows": 20.0, "Actual Loops": 1, "Plan Rows": 20,
            "Actual Total Time": 0.05,
            "Plans": [{
                "Node Type": "Nested Loop", "Actual Rows": 20.0, "Actual Loops": 1,
                "Plans": [
                    {"Node Type": "Index Scan", "Index Name": "ix_a", "Relation Name": "a",
                     "Actual Rows": 2.5, "Actual Loops": 4, "Rows Removed by Filter": 1},
                    {"Node Type": "Seq Scan", "Relation Name": "b", "Actual Rows": 10,
                     "Actual Loops": 1, "Rows Removed by Filter": 990},
                ],
            }],
        },
        "Execution Time": 1.25, "Planning Time": 0.2,
    }])  # fmt: skip
    plan = parse_plan(document)
    assert [n.node_type for n in plan.walk()] == ["Limit", "Nested Loop", "Index Scan", "Seq Scan"]
    assert plan.rows_read("a") == 14 and plan.rows_read("b") == 1000 and plan.rows_read() == 1014
    assert plan.indexes == {"ix_a"} and plan.execution_ms == 1.25
    assert [n.relation for n in plan.scans()] == ["a", "b"]


def test_render_writes_large_counts_in_full():
    document = [{"Plan": {"Node Type": "Seq Scan", "Relation Name": "big", "Actual Rows": 1e6,
                          "Actual Loops": 1, "Rows Removed by Filter": 2_500_000,
                          "Actual Total Time": 120.5},
                 "Execution Time": 121.0}]  # fmt: skip
    text = parse_plan(document).render()
    assert "rows=1000000" in text and "read=3500000" in text, text
    assert "e+" not in text
    fractional = [{"Plan": {"Node Type": "Seq Scan", "Relation Name": "a", "Actual Rows": 0.5,
                            "Actual Loops": 2}, "Execution Time": 1.0}]  # fmt: skip
    assert "rows=0.5" in parse_plan(fractional).render()


def _flood(conn, n: int = 11_000) -> None:
    """More distinct statements than pg_stat_statements keeps (10,000): it must evict."""
    import itertools

    columns = itertools.product(("id", "owner", "kind"), repeat=9)
    with conn.pipeline():
        for combo in itertools.islice(columns, n):
            conn.execute(f"SELECT {', '.join(combo)} FROM item WHERE id = 1")


@pytest.mark.skipif(
    bool(os.environ.get("LAB_DATABASE_URL")),
    reason="floods pg_stat_statements: only on our own embedded server, never a shared one",
)
def test_a_count_taken_while_entries_are_evicted_is_taken_again(admin_url, run_db):
    with StatementLog(admin_url, run_db) as log, psycopg.connect(run_db, autocommit=True) as conn:
        with pytest.raises(StatementsEvicted), log.capture():
            _flood(conn)
        attempts = []

        def action():
            attempts.append(1)
            if len(attempts) == 1:
                _flood(conn)  # the first measurement is spoiled by evictions
            return conn.execute("SELECT kind FROM item WHERE id = 2").fetchone()[0]

        got, value = log.count(action)
        assert len(attempts) == 2 and value == "blue"
        assert got.calls == 1 and "kind" in got[0].query


def test_enable_steps_keep_the_libraries_already_preloaded():
    steps = enable_steps("auto_explain")
    assert "shared_preload_libraries = 'auto_explain,pg_stat_statements'" in steps
    assert "restart" in steps and "unset LAB_DATABASE_URL" in steps
    assert "= 'pg_stat_statements'" in enable_steps("")


def test_the_gate_lets_every_request_through_at_once(run_db):
    import threading
    import time

    from checker.observe.locks import Locks

    passed: list[float] = []

    def request():
        with psycopg.connect(run_db, autocommit=True) as conn:
            conn.execute("UPDATE item SET kind = kind WHERE id = 1")
            passed.append(time.monotonic())

    with Locks(run_db).gate("SELECT 1 FROM item WHERE id = %s FOR UPDATE", [1], waiters=5,
                            quiet=10) as gate:  # fmt: skip
        threads = [threading.Thread(target=request) for _ in range(5)]
        for t in threads:
            t.start()
        time.sleep(0.3)
        assert passed == [], "no request passes a held gate"
        t0 = time.monotonic()
        assert gate.release() == 5, "all five waited behind the gate"
        released = time.monotonic()
        assert released - t0 < 10, "released because they waited, not after the quiet time"
    for t in threads:
        t.join(10)
    assert len(passed) == 5 and min(passed) >= released - 0.05


def test_the_gate_opens_when_nothing_moves(run_db):
    import time

    from checker.observe.locks import Locks

    with Locks(run_db).gate("LOCK TABLE item IN SHARE MODE", waiters=3, quiet=0.3) as gate:
        t0 = time.monotonic()
        assert gate.release() == 0
        assert 0.3 <= time.monotonic() - t0 < 5
    with psycopg.connect(run_db, autocommit=True) as conn:  # released: writes go through
        conn.execute("SET lock_timeout = '1s'")
        conn.execute("UPDATE item SET kind = kind WHERE id = 3")


def test_the_gate_counts_only_who_waits_behind_it(run_db):
    """A backend stuck behind someone else (another check's blocker) is no racer of the
    gate's; one queued behind a racer that waits on the gate is."""
    import threading
    import time

    from checker.observe.locks import Locks

    def update(row: int) -> None:
        with psycopg.connect(run_db, autocommit=True) as conn:
            conn.execute("UPDATE item SET kind = kind WHERE id = %s", [row])

    locks = Locks(run_db)
    with locks.hold("SELECT 1 FROM item WHERE id = %s FOR UPDATE", [2]) as blocker:
        stuck = threading.Thread(target=update, args=(2,))
        stuck.start()
        with locks.gate("SELECT 1 FROM item WHERE id = %s FOR UPDATE", [1], waiters=2,
                        quiet=5) as gate:  # fmt: skip
            racers = [threading.Thread(target=update, args=(1,)) for _ in range(2)]
            for t in racers:
                t.start()
            deadline = time.monotonic() + 5
            while (gate.waiting() < 2 or blocker.waiting() < 1) and time.monotonic() < deadline:
                time.sleep(0.02)
            assert gate.waiting() == 2, "both racers, the second queued behind the first"
            assert blocker.waiting() == 1, "the stuck update waits behind the blocker only"
            assert gate.release() == 2
        for t in racers:
            t.join(10)
    stuck.join(10)


def test_a_blocker_holds_its_lock_until_the_block_ends(run_db):
    from checker.observe.locks import Locks

    with psycopg.connect(run_db, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '200ms'")
        with Locks(run_db).hold("SELECT 1 FROM item WHERE id = %s FOR UPDATE", [2]) as held:
            assert held.waiting() == 0
            with pytest.raises(psycopg.errors.LockNotAvailable):
                conn.execute("UPDATE item SET kind = kind WHERE id = 2")
        conn.execute("UPDATE item SET kind = kind WHERE id = 2")


def test_deadlocks_are_counted_per_run_database(run_db):
    import threading
    import time

    from checker.observe.locks import Locks

    locks = Locks(run_db)
    before = locks.deadlocks()
    a = psycopg.connect(run_db)
    b = psycopg.connect(run_db)
    errors: list[Exception] = []

    def second(conn, first, then):
        try:
            conn.execute("UPDATE item SET kind = kind WHERE id = %s", (first,))
            time.sleep(0.3)
            conn.execute("UPDATE item SET kind = kind WHERE id = %s", (then,))
            conn.commit()
        except psycopg.errors.DeadlockDetected as exc:
            errors.append(exc)
            conn.rollback()

    threads = [threading.Thread(target=second, args=(a, 10, 11)),
               threading.Thread(target=second, args=(b, 11, 10))]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    a.close()
    b.close()
    assert len(errors) == 1, "PostgreSQL broke the cycle by failing one transaction"
    deadline = time.monotonic() + 5  # statistics are flushed within a second or so
    while locks.deadlocks() == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert locks.deadlocks() - before == 1

"""Template seeds in steps (with progress), and big templates cloned with FILE_COPY."""

from __future__ import annotations

import psycopg

from checker.paths import state_dir
from checker.services import databases, providers
from checker.services.databases import (
    create_run_database,
    drop_database,
    ensure_template,
    split_steps,
)

from .conftest import ROOT


def test_a_seed_is_cut_into_labelled_steps():
    sql = [
        "CREATE TABLE a (x int);\n-- step: rows\nINSERT INTO a VALUES (1);\n"
        "-- step: stats\nANALYZE a;\n",
        "SELECT 1;",
    ]
    assert split_steps(sql) == [
        ("schema", "CREATE TABLE a (x int);\n"),
        ("rows", "\nINSERT INTO a VALUES (1);\n"),
        ("stats", "\nANALYZE a;\n"),
        ("seed", "SELECT 1;"),
    ]
    assert split_steps(["-- step: only\nSELECT 2;"]) == [("only", "\nSELECT 2;")]


def test_seeding_reports_each_step_and_big_templates_clone_by_file_copy(monkeypatch):
    admin = providers(state_dir(ROOT)).postgres.ensure()
    seen: list[str] = []
    sql = [
        "CREATE TABLE t (x int);\n-- step: a thousand rows\n"
        "INSERT INTO t SELECT generate_series(1, 1000);\n-- step: statistics\nANALYZE t;"
    ]
    tpl = ensure_template(admin, "lab_tpl_seeding_test_1", sql, on_progress=seen.append)
    try:
        steps = [m for m in seen if m.startswith("seeding ")]
        assert len(steps) == 3 and "a thousand rows (2/3" in steps[1], seen
        assert seen[-1].startswith(f"template {tpl} built in")
        # Any template counts as big here: the clone must still be a faithful copy.
        monkeypatch.setattr(databases, "FILE_COPY_ABOVE_BYTES", 0)
        name, url = create_run_database(admin, tpl, "filecopy")
        try:
            with psycopg.connect(url) as conn:
                assert conn.execute("SELECT count(*) FROM t").fetchone() == (1000,)
        finally:
            drop_database(admin, name)
    finally:
        drop_database(admin, tpl)

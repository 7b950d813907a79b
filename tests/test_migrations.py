"""The engine hook for labs whose schema is the learner's Alembic migrations (lab 03):
applied before the service starts, kept as a template until they change, and a broken
or hanging migration ends as a clear verdict with no process left behind."""

from __future__ import annotations

import psutil
import pytest

from checker import runner
from checker.catalog import Catalog, Mutation
from checker.paths import state_dir
from checker.workspace import compose

from .conftest import ROOT

LAB = Catalog(ROOT).get("indexing")
MIGRATION = "migrations/versions/0002_indexes.py"

pytestmark = pytest.mark.slow


def _run(mutations=()):
    phases: list[str] = []

    def listen(kind, payload):
        if kind == "phase":
            phases.append(str(payload))

    with compose(LAB, mutations=mutations) as ws:
        result = runner.run(LAB, ws, state=state_dir(ROOT), listener=listen)
        left = _alembic_processes(str(ws.path))
    return result, phases, left


def _alembic_processes(workspace: str) -> list[psutil.Process]:
    """Alembic processes still running on this workspace's migrations."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if "alembic" in cmdline and workspace in cmdline:
            found.append(proc)
    return found


def test_migrations_are_applied_once_then_reused():
    first, _, _ = _run()
    assert first.error is None and first.status == "pass", first.error
    again, phases, _ = _run()
    assert again.status == "pass"
    assert not any("applying your migrations" in p for p in phases), phases


def test_a_broken_migration_is_a_verdict_with_its_output():
    broken = Mutation(MIGRATION, "def upgrade() -> None:\n", "def upgrade() -> None:\n    1 / 0\n")
    result, _, _ = _run([broken])
    assert result.status == "error"
    assert result.error.kind == "migrations_failed"
    assert "alembic upgrade head exited with 1" in result.error.message
    assert "ZeroDivisionError" in result.error.log_tail
    assert all(c.status == "error" for c in result.checks)


def test_a_hanging_migration_is_stopped(monkeypatch):
    monkeypatch.setenv("LAB_MIGRATE_TIMEOUT", "3")
    hang = Mutation(
        MIGRATION, "def upgrade() -> None:\n", "def upgrade() -> None:\n    import time\n\n"
        "    time.sleep(600)\n"
    )  # fmt: skip
    result, _, left = _run([hang])
    assert result.error is not None and result.error.kind == "migrations_failed"
    assert "did not finish in time" in result.error.message
    assert not left, "the hanging migration was left running"


def test_only_older_migrated_templates_are_dropped():
    """Runs of different migrations at once each keep their template: building one drops
    only those beyond the newest KEEP_MIGRATED of the base, never a fresh one."""
    import psycopg

    from checker.migrations import KEEP_MIGRATED, drop_older_migrated
    from checker.services import providers
    from checker.services.databases import drop_database

    admin = providers(state_dir(ROOT)).postgres.ensure()
    prefix = "lab_tpl_selftest_m"
    names = [f"{prefix}{i:02d}" for i in range(KEEP_MIGRATED + 2)]
    with psycopg.connect(admin, autocommit=True) as conn:
        try:
            for name in names:  # oldest first
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                conn.execute(f'CREATE DATABASE "{name}"')
            dropped = drop_older_migrated(admin, conn, prefix)
            left = {r[0] for r in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE 'lab\\_tpl\\_selftest\\_m%'"
            )}  # fmt: skip
        finally:
            for name in names:
                drop_database(admin, name)
    assert sorted(dropped) == names[:2]
    assert left == set(names[2:])

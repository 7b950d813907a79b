"""The learner's Alembic migrations, applied by the checker before the service starts.

A lab that declares ``migrations = "alembic.ini"`` in its lab.toml ships its schema as
Alembic migrations the learner writes (lab 03: indexes). The checker never imports them:
``alembic upgrade head`` runs as a process of its own, in the learner's workspace, with
``DATABASE_URL`` pointing at a clone of the lab's template, under a time limit.

Migrating a million rows (building an index) takes seconds, so the result is kept: the
migrated clone becomes a template of its own, named after the base template and a
fingerprint of the migration files (alembic.ini and everything in its script folder).
The next run with the same migrations clones it directly; an edit to any migration
builds a new one. Only the newest ``KEEP_MIGRATED`` of a base are kept: runs of different
migrations at once (the self-verification's scenarios, a grading batch) each find their
own template still there while they clone it, instead of one dropping the other's.

While the upgrade runs on the data, the same migrations also make a round trip on an
empty database of their own (checker.migration_roundtrip: upgrade, downgrade to the
template's own revision, upgrade again). The result is stored in the migrated template,
in ``lab_meta.migrations_round_trip`` (outside the learner's ``public`` schema), so every
run cloned from it can judge reversibility without redoing it.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from . import sandbox
from .errors import LabError
from .services.databases import (
    _connect,
    _drop_template,
    _ident,
    create_run_database,
    drop_database,
    fingerprint,
    is_sealed,
    seal,
)

MIGRATE_TIMEOUT_S = 180.0
KEEP_MIGRATED = 4  # migrated templates kept per base template (newest first)


class MigrationFailed(LabError):
    """``alembic upgrade head`` failed or timed out; ``detail`` holds its output's tail."""


def migration_files(workspace: Path, config: str) -> list[Path]:
    """alembic.ini and every file of its script folder, in a stable order."""
    ini = workspace / config
    if not ini.is_file():
        raise MigrationFailed(
            f"This lab's migrations are configured by {config}, which is missing from "
            f"{workspace}. Restore it (lab reset restores the starter)."
        )
    parser = configparser.ConfigParser(defaults={"here": str(ini.parent)})
    parser.read(ini, encoding="utf-8")
    location = parser.get("alembic", "script_location", fallback="migrations")
    scripts = (ini.parent / location).resolve()
    files = [ini]
    if scripts.is_dir():
        files += sorted(
            p for p in scripts.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix in (".py", ".mako", ".ini")
        )  # fmt: skip
    return files


def migrated_template(
    admin_url: str,
    base: str,
    workspace: Path,
    config: str,
    env: dict[str, str],
    log_path: Path,
    on_progress: Callable[[str], None] | None = None,
) -> str:
    """The name of a template holding ``base`` with the workspace's migrations applied
    (built now if these migrations were never applied to this base)."""
    from .migration_roundtrip import SCRIPT_VERSION

    files = migration_files(workspace, config)
    fp = fingerprint(
        base,
        SCRIPT_VERSION,
        *(f"{p.relative_to(workspace)}\0{p.read_text('utf-8')}" for p in files),
    )
    prefix = f"{base[:48]}_m"
    name = f"{prefix}{fp}"
    with _connect(admin_url) as conn:
        if is_sealed(conn, name):
            return name
        key = int(hashlib.sha256(name.encode()).hexdigest()[:15], 16)
        conn.execute("SELECT pg_advisory_lock(%s)", (key,))
        try:
            sealed = is_sealed(conn, name)
            if sealed:
                return name
            if sealed is False:  # not sealed: never served (see services/databases.py)
                _drop_template(conn, name)
            if on_progress:
                on_progress("applying your migrations (alembic upgrade head)")
            scratch, url = create_run_database(admin_url, base, "migrate")
            try:
                baseline = _revision(url)
                trip: dict = {}
                worker = threading.Thread(
                    target=_round_trip, args=(trip, workspace, config, admin_url, baseline, env),
                    daemon=True,
                )  # fmt: skip
                if baseline:
                    worker.start()
                try:
                    _upgrade(workspace, config, {**env, "DATABASE_URL": url}, log_path)
                finally:
                    if baseline:
                        worker.join()
                _record_round_trip(url, baseline, trip)
            except BaseException:
                drop_database(admin_url, scratch)
                raise
            # The run role that ran the migrations hands its objects over, then goes.
            seal(admin_url, scratch, builder=scratch)
            conn.execute(f"ALTER DATABASE {_ident(scratch)} RENAME TO {_ident(name)}")
            drop_older_migrated(admin_url, conn, prefix)
            return name
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))


def drop_older_migrated(admin_url: str, conn, prefix: str, keep: int = KEEP_MIGRATED) -> list[str]:
    """Drop all but the ``keep`` newest migrated templates named ``prefix...`` (database
    oids grow with creation, so the newest are the ones runs are cloning now)."""
    rows = conn.execute(
        "SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY oid DESC",
        (prefix.replace("_", r"\_") + "%",),
    ).fetchall()
    dropped = [old for (old,) in rows[keep:]]
    for old in dropped:
        drop_database(admin_url, old)
    return dropped


def _upgrade(workspace: Path, config: str, env: dict[str, str], log_path: Path) -> None:
    from . import process

    log_path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "alembic", "-c", str(workspace / config), "upgrade", "head"]
    # Learner code: under the run's sandbox when ``env`` names one (LAB_SANDBOX).
    cmd, env, confine = sandbox.wrap(cmd, {**env, "PYTHONDONTWRITEBYTECODE": "1"})
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=workspace, env=env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=confine,
        )  # fmt: skip
        try:
            code = proc.wait(
                timeout=float(os.environ.get("LAB_MIGRATE_TIMEOUT", MIGRATE_TIMEOUT_S))
            )
        except subprocess.TimeoutExpired:
            code = None
        finally:
            process.kill_group(proc, grace=0)  # whatever it started goes with it
    if code is None:
        raise MigrationFailed(
            "Your migrations did not finish in time (alembic upgrade head). A migration "
            "may be waiting on a lock, or doing far more work than it needs.",
            detail=process.tail(log_path),
        )
    if code != 0:
        raise MigrationFailed(
            f"Your migrations failed (alembic upgrade head exited with {code}), so the "
            "checks could not run. The end of its output says why.",
            detail=process.tail(log_path),
        )


def _revision(url: str) -> str | None:
    """The Alembic revision the base template is at (None when it has none)."""
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        if not conn.execute("SELECT to_regclass('public.alembic_version')").fetchone()[0]:
            return None
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else None


def _round_trip(into: dict, workspace, config, admin_url, baseline, env) -> None:
    from .migration_roundtrip import round_trip

    try:  # learner code, confined as the upgrade beside it is (sandbox.wrap)
        result = round_trip(workspace, config, admin_url, baseline, env, confine=sandbox.wrap)
        into["steps"] = [vars(step) for step in result.steps]
        into["problem"] = result.problem
        into["output"] = result.output
    except Exception as exc:  # recorded; the check says the round trip could not be made
        into["problem"] = f"could not be made ({exc})"


def _record_round_trip(url: str, baseline: str | None, trip: dict) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS lab_meta")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS lab_meta.migrations_round_trip"
            " (baseline text, result jsonb NOT NULL)"
        )
        conn.execute(
            "INSERT INTO lab_meta.migrations_round_trip VALUES (%s, %s)",
            (baseline, json.dumps(trip)),
        )

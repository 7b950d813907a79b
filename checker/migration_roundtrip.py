"""Do the learner's migrations apply cleanly forward and back?

``round_trip`` runs them on an empty database of their own (cloned from template0, so no
data: building indexes on empty tables is instant, and what is judged is the migrations'
logic, not the data): upgrade to the baseline revision, upgrade to head, downgrade to the
baseline, upgrade to head again, noting the schema (tables and index definitions) after
each step. It runs as one process with a time limit, in the learner's workspace, like
``alembic upgrade head`` in checker.migrations: the checker never imports learner code.
The database is dropped afterwards, whatever happened.

A migration is reversible when the downgrade leaves exactly the baseline's schema and the
second upgrade succeeds and leaves exactly the first upgrade's schema.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .services.databases import create_run_database, drop_database

ROUND_TRIP_TIMEOUT_S = 60.0

#: Runs inside the learner's workspace (cwd), as its own process.
_SCRIPT = r"""
import json, os, sys, traceback
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

ini, baseline, url = sys.argv[1], sys.argv[2], os.environ["DATABASE_URL"]
cfg = Config(ini)
engine = sa.create_engine(url)

def schema():
    with engine.connect() as conn:
        tables = conn.execute(sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename <> 'alembic_version' ORDER BY 1")).scalars().all()
        indexes = conn.execute(sa.text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
            " AND tablename <> 'alembic_version' ORDER BY 1")).all()
        version = conn.execute(sa.text(
            "SELECT version_num FROM alembic_version")).scalars().all() if "alembic_version" in (
            sa.inspect(conn).get_table_names()) else []
    return {"tables": list(tables), "indexes": {n: d for n, d in indexes}, "version": list(version)}

steps = [("upgrade", baseline), ("upgrade", "head"), ("downgrade", baseline), ("upgrade", "head")]
for verb, target in steps:
    try:
        getattr(command, verb)(cfg, target)
    except BaseException as exc:
        # The error in the learner's terms: its first lines, and the line of their
        # migration that raised it (not the library's frames).
        lines = f"{type(exc).__name__}: {exc}".splitlines()
        error = lines[0] if lines else type(exc).__name__
        mine = [f for f in traceback.extract_tb(exc.__traceback__)
                if f.filename.startswith(os.getcwd()) and "/.venv/" not in f.filename]
        if mine:
            here = mine[-1]
            error += f"\n  at {os.path.relpath(here.filename)}, line {here.lineno}: {here.line}"
        print(json.dumps({"step": f"{verb} {target}", "error": error}), flush=True)
        sys.exit(0)
    print(json.dumps({"step": f"{verb} {target}", "schema": schema()}), flush=True)
"""

#: Part of a migrated template's fingerprint: a template whose round trip was recorded by
#: another version of the script (or by none) is built again.
SCRIPT_VERSION = hashlib.sha256(_SCRIPT.encode()).hexdigest()[:12]


@dataclass
class Step:
    name: str
    schema: dict | None = None
    error: str | None = None


@dataclass
class RoundTrip:
    steps: list[Step] = field(default_factory=list)
    problem: str | None = None  # a process that crashed or hung, before any step said why
    output: str = ""

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)


def round_trip(
    workspace: Path,
    config: str,
    admin_url: str,
    baseline: str,
    env: dict[str, str] | None = None,
    confine=None,
) -> RoundTrip:
    """``confine``: ``(args, env) -> (args, env, preexec_fn)``, how learner code is run
    confined (``checker.sandbox.ForChecks.wrap``, for a hidden check that calls this)."""
    from . import process

    name, url = create_run_database(admin_url, "template0", "roundtrip")
    try:
        run_env = {**(env if env is not None else os.environ), "DATABASE_URL": url}
        run_env["PYTHONDONTWRITEBYTECODE"] = "1"
        cmd = [sys.executable, "-c", _SCRIPT, str(workspace / config), baseline]
        preexec = None
        if confine is not None:
            cmd, run_env, preexec = confine(cmd, run_env)
        proc = subprocess.Popen(
            cmd, cwd=workspace, env=run_env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=preexec,
        )  # fmt: skip
        # Never longer than the upgrade it runs beside may take.
        timeout = min(
            float(os.environ.get("LAB_MIGRATE_TIMEOUT", ROUND_TRIP_TIMEOUT_S)),
            ROUND_TRIP_TIMEOUT_S,
        )
        try:
            out, _ = proc.communicate(timeout=timeout)
            hung = False
        except subprocess.TimeoutExpired:
            process.kill_group(proc, grace=0)
            out, _ = proc.communicate()
            hung = True
        finally:
            process.kill_group(proc, grace=0)  # whatever it started goes with it
    finally:
        drop_database(admin_url, name)
    text = out.decode("utf-8", "replace")
    result = RoundTrip(output=text[-3000:])
    for line in text.splitlines():
        if line.startswith('{"step"'):
            data = json.loads(line)
            result.steps.append(Step(data["step"], data.get("schema"), data.get("error")))
    if hung:
        result.problem = f"did not finish within {timeout:.0f} s (waiting on a lock?)"
    elif proc.returncode != 0:
        result.problem = f"crashed (exit code {proc.returncode})"
    return result

"""The learner's revisions, run as a process of their own (never imported by the checker).

``python -c DRIVER -c alembic.ini upgrade expand`` runs Alembic's own command line in the
learner's workspace, as the run's database role, under the run's sandbox when there is
one. Two things are added, from outside the learner's code:

- ``PGOPTIONS=-c client_min_messages=debug1``: PostgreSQL then tells the migration's own
  connection what each ALTER did (``rewriting table``, ``verifying table``, ``existing
  constraints ... are sufficient to prove ...``), on every PostgreSQL the checker runs
  on: no server setting changes, and no server log needs to be readable;
- SQLAlchemy event hooks print each statement and each message the server sends, one
  JSON line (``LABEVENT {...}``) each, in the order they happened, so a message can be
  tied to the statement that caused it.

``PGAPPNAME=lab-migration`` names the migration's connections in pg_stat_activity, so
the lock sampler can tell them from the services'.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

DRIVER = r"""
import sys
# --hold: import everything, then wait for "go" on stdin (a warm start, the moment the
# checker wants it); anything else on stdin, or its end, exits without running.
HOLD = sys.argv[1:2] == ["--hold"]
if HOLD:
    del sys.argv[1]
import json
import sqlalchemy as sa
from sqlalchemy import event
import alembic.command, alembic.config, psycopg  # noqa: F401  (loaded before "go")

def _out(**kw):
    sys.stdout.write("LABEVENT " + json.dumps(kw) + "\n")
    sys.stdout.flush()

@event.listens_for(sa.engine.Engine, "connect")
def _on_connect(dbapi_conn, record):
    pid = getattr(getattr(dbapi_conn, "info", None), "backend_pid", None)
    _out(connect=pid)
    if hasattr(dbapi_conn, "add_notice_handler"):
        dbapi_conn.add_notice_handler(
            lambda d: _out(pid=pid, severity=d.severity_nonlocalized, message=d.message_primary))

@event.listens_for(sa.engine.Engine, "before_cursor_execute")
def _on_statement(conn, cursor, statement, parameters, context, executemany):
    raw = getattr(conn.connection, "dbapi_connection", None)
    pid = getattr(getattr(raw, "info", None), "backend_pid", None)
    _out(pid=pid, statement=" ".join(statement.split())[:400])

if HOLD and sys.stdin.readline().strip() != "go":
    sys.exit(0)
alembic.config.main(argv=sys.argv[1:], prog="alembic")
"""


def base_env(workspace: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("LAB_") and k not in ("DATABASE_URL", "PGOPTIONS", "PGAPPNAME")
    }
    env.update(PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1")
    return env


def confine():
    """How the run's sandbox confines learner code (None: the run has none)."""
    from checker.sandbox import ForChecks

    box = ForChecks.from_env()
    return box.wrap if box is not None else None


def _wrap(cmd: list[str], env: dict[str, str]):
    from checker.sandbox import ForChecks

    box = ForChecks.from_env()
    if box is None:
        return cmd, env, None
    return box.wrap(cmd, env)


def command(workspace: Path, verb: str, target: str, database_url: str, hold: bool = False):
    """(args, env, preexec_fn) of ``alembic <verb> <target>`` in ``workspace`` (with
    ``hold``: loaded, then waiting for "go" on stdin)."""
    env = base_env(workspace)
    env.update(
        DATABASE_URL=database_url,
        PGOPTIONS="-c client_min_messages=debug1",
        PGAPPNAME="lab-migration",
    )
    cmd = [sys.executable, "-c", DRIVER, *(["--hold"] if hold else []),
           "-c", str(workspace / "alembic.ini"), verb, target]  # fmt: skip
    return _wrap(cmd, env)


def backfill_command(workspace: Path, database_url: str):
    env = base_env(workspace)
    env.update(DATABASE_URL=database_url, PGAPPNAME="lab-migration")
    return _wrap([sys.executable, "-m", "app.backfill"], env)


def parse(output: str) -> list[dict]:
    """The LABEVENT lines of a run, in order: statements and the server's messages."""
    events = []
    for line in output.splitlines():
        if line.startswith("LABEVENT "):
            try:
                events.append(json.loads(line[len("LABEVENT ") :]))
            except ValueError:
                continue
    return events


def statements_with_messages(events: list[dict]) -> list[tuple[str, list[str]]]:
    """Each statement with the DEBUG messages the server sent while it ran (per
    connection: a message belongs to the last statement sent on its connection)."""
    last: dict = {}
    out: list[tuple[str, list[str]]] = []
    for ev in events:
        if "statement" in ev:
            out.append((ev["statement"], []))
            last[ev.get("pid")] = len(out) - 1
        elif "message" in ev:
            i = last.get(ev.get("pid"))
            if i is None:
                out.append(("(before any statement)", []))
                i = last[ev.get("pid")] = len(out) - 1
            out[i][1].append(ev["message"])
    return out

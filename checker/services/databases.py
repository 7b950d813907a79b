"""Per-run databases: a template per fingerprint (schema and seed, paid once), cloned
fresh for every run with ``CREATE DATABASE ... TEMPLATE`` and dropped afterwards.

Works on any provider's server given an admin URL; knows nothing of labs: callers pass
a template name and the SQL that builds it.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
import time
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit, urlunsplit

from ..errors import ServiceError

RUN_PREFIX = "lab_run_"
TEMPLATE_PREFIX = "lab_tpl_"
STALE_AFTER_S = 6 * 3600  # a run database older than this belongs to a dead run


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


def _ident(name: str) -> str:
    if not re.fullmatch(r"[a-z0-9_]{1,63}", name):
        raise ValueError(f"unsafe database name {name!r}")
    return f'"{name}"'


def fingerprint(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
        h.update(b"\0")
    return h.hexdigest()[:10]


def _connect(admin_url: str):
    import psycopg

    return psycopg.connect(admin_url, autocommit=True, connect_timeout=10)


def ensure_template(
    admin_url: str,
    name: str,
    sql: Sequence[str] = (),
    *,
    on_progress: Callable[[str], None] | None = None,
) -> str:
    """Make the template database ``name`` once (running ``sql`` in it); return its name.

    Safe when several processes ask at once: an advisory lock serialises the builders,
    and a template is published by renaming it only once fully built.
    """
    import psycopg

    with _connect(admin_url) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return name
        key = int(hashlib.sha256(name.encode()).hexdigest()[:15], 16)
        conn.execute("SELECT pg_advisory_lock(%s)", (key,))
        try:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                return name
            building = f"{name}_building"[:63]
            conn.execute(f"DROP DATABASE IF EXISTS {_ident(building)} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {_ident(building)} TEMPLATE template0")
            if sql:
                steps = split_steps(sql)
                if on_progress:
                    on_progress(f"building template database {name}")
                t0 = time.monotonic()
                try:
                    with psycopg.connect(with_database(admin_url, building), autocommit=True) as tc:
                        for i, (label, statement) in enumerate(steps, 1):
                            if on_progress and len(steps) > 1:
                                on_progress(
                                    f"seeding {name}: {label} ({i}/{len(steps)}, "
                                    f"{time.monotonic() - t0:.0f}s)"
                                )
                            tc.execute(statement)
                except psycopg.Error as exc:
                    raise ServiceError(
                        f"Building the template database {name} failed: {exc}"
                    ) from None
                if on_progress:
                    on_progress(f"template {name} built in {time.monotonic() - t0:.1f}s")
            conn.execute(f"ALTER DATABASE {_ident(building)} RENAME TO {_ident(name)}")
            return name
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))


_STEP = re.compile(r"^--\s*step:\s*(?P<label>.+?)\s*$", re.MULTILINE)


def split_steps(sql: Sequence[str]) -> list[tuple[str, str]]:
    """(label, SQL) steps, run one by one so a long seed can show its progress: a file
    is cut at each line ``-- step: <label>`` (text before the first one is a step of its
    own, labelled "schema")."""
    steps: list[tuple[str, str]] = []
    for text in sql:
        marks = list(_STEP.finditer(text))
        head = text[: marks[0].start()] if marks else text
        if head.strip():
            steps.append(("schema" if marks else "seed", head))
        for m, nxt in zip(marks, [*marks[1:], None][: len(marks)], strict=True):
            body = text[m.end() : nxt.start() if nxt else len(text)]
            if body.strip():
                steps.append((m.group("label"), body))
    return steps


#: Templates bigger than this are cloned with STRATEGY FILE_COPY (PostgreSQL 15+): the
#: default, WAL_LOG, writes the whole copy through the WAL, which for a seed of a
#: million rows costs seconds per run; FILE_COPY copies the files after a checkpoint.
FILE_COPY_ABOVE_BYTES = 64 * 1024 * 1024


def create_run_database(admin_url: str, template: str, label: str) -> tuple[str, str]:
    """A fresh database cloned from ``template``; returns (name, url)."""
    import psycopg

    safe = re.sub(r"[^a-z0-9]", "", label.lower())[:16]
    name = f"{RUN_PREFIX}{safe}_{int(time.time())}_{secrets.token_hex(3)}"
    with _connect(admin_url) as conn:
        size = conn.execute(
            "SELECT pg_database_size(oid) FROM pg_database WHERE datname = %s", (template,)
        ).fetchone()
        strategy = " STRATEGY FILE_COPY" if size and size[0] > FILE_COPY_ABOVE_BYTES else ""
        for attempt in range(20):
            try:
                conn.execute(
                    f"CREATE DATABASE {_ident(name)} TEMPLATE {_ident(template)}{strategy}"
                )
                break
            except psycopg.errors.ObjectInUse:
                # Someone is connected to the template (another clone in flight).
                if attempt == 19:
                    raise
                time.sleep(0.05 * (attempt + 1))
    return name, with_database(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with contextlib.suppress(psycopg.Error), _connect(admin_url) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {_ident(name)} WITH (FORCE)")


def drop_stale_runs(admin_url: str, older_than_s: float = STALE_AFTER_S) -> list[str]:
    """Drop run databases left by runs that died (killed, machine restarted)."""
    import psycopg

    dropped = []
    now = time.time()
    with contextlib.suppress(psycopg.Error), _connect(admin_url) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (RUN_PREFIX + "%",)
        ).fetchall()
        for (name,) in rows:
            m = re.search(r"_(\d{9,11})_[0-9a-f]{6}$", name)
            if m and now - int(m.group(1)) > older_than_s:
                drop_database(admin_url, name)
                dropped.append(name)
    return dropped


def list_templates(admin_url: str) -> list[str]:
    with _connect(admin_url) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY 1",
            (TEMPLATE_PREFIX + "%",),
        ).fetchall()
    return [r[0] for r in rows]

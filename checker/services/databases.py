"""Per-run databases: a template per fingerprint (schema and seed, paid once), cloned
fresh for every run with ``CREATE DATABASE ... TEMPLATE`` and dropped afterwards.

Works on any provider's server given an admin URL; knows nothing of labs: callers pass
a template name and the SQL that builds it.

Isolation (the learner's code connects with the run's URL, never the admin's):

* each run database belongs to a role of its own (same name as the database), a LOGIN
  role with a random password and no other attribute: not a superuser, cannot create
  roles or databases; CONNECT and TEMP on it are revoked from PUBLIC, so no other run's
  role can connect to it;
* what a template holds is owned by ``lab_owner`` (NOLOGIN), of which every run role is
  a member: in its own clone a run may alter, drop and create anything;
* a template is *sealed* once built: owned by the admin, no CONNECT for PUBLIC, and
  ``ALLOW_CONNECTIONS false``, so nobody (not even a superuser) can change it; a template
  without the seal mark (built before, or tampered with) is dropped and rebuilt.

The roles only matter if the server checks passwords: the embedded server does
(scram-sha-256); an external server that trusts every local connection does not, and
``role_isolation_gaps`` says so.
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
OWNER_ROLE = "lab_owner"
SEAL = "backend-lab sealed template v1"
STALE_AFTER_S = 6 * 3600  # a run database older than this belongs to a dead run


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


def with_user(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}"))


# Hand everything a template holds to lab_owner (extension members and objects that
# follow their table, like a serial's sequence, stay as they are).
_HAND_OVER = r"""
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT nspname FROM pg_namespace
           WHERE nspname NOT LIKE 'pg\_%' AND nspname <> 'information_schema' LOOP
    EXECUTE format('ALTER SCHEMA %I OWNER TO lab_owner', r.nspname);
  END LOOP;
  FOR r IN SELECT c.oid::regclass AS obj, c.relkind FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'
             AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                             AND d.objid = c.oid AND d.deptype IN ('e', 'a', 'i')) LOOP
    EXECUTE format('ALTER %s %s OWNER TO lab_owner',
      CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
        WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, r.obj);
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS obj, p.prokind FROM pg_proc p
           JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                             AND d.objid = p.oid AND d.deptype = 'e') LOOP
    EXECUTE format('ALTER %s %s OWNER TO lab_owner',
      CASE r.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END,
      r.obj);
  END LOOP;
  FOR r IN SELECT t.oid::regtype AS obj, t.typtype FROM pg_type t
           JOIN pg_namespace n ON n.oid = t.typnamespace
           WHERE n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'
             AND t.typtype IN ('e', 'd', 'r')
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
                             AND d.objid = t.oid AND d.deptype IN ('e', 'i')) LOOP
    EXECUTE format('ALTER %s %s OWNER TO lab_owner',
      CASE r.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, r.obj);
  END LOOP;
END $$
"""


def _ensure_owner_role(conn) -> bool:
    """Make ``lab_owner``; False when the admin may not create roles (managed servers)."""
    import psycopg

    if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (OWNER_ROLE,)).fetchone():
        return True
    try:
        conn.execute(f"CREATE ROLE {OWNER_ROLE} NOLOGIN")
    except psycopg.errors.DuplicateObject:
        pass
    except psycopg.errors.InsufficientPrivilege:
        return False
    return True


def seal(admin_url: str, name: str, *, builder: str | None = None) -> None:
    """Hand the database's objects to lab_owner (and ``builder``'s, if a run role built
    it), then make it unreachable: owned by the admin, no CONNECT for PUBLIC, no
    connections at all. Call before publishing a template."""
    import psycopg

    with _connect(admin_url) as conn:
        roles = _ensure_owner_role(conn)
        with psycopg.connect(with_database(admin_url, name), autocommit=True) as tc:
            if roles:
                if builder:
                    tc.execute(f"REASSIGN OWNED BY {_ident(builder)} TO {OWNER_ROLE}")
                tc.execute(_HAND_OVER)
        conn.execute(f"ALTER DATABASE {_ident(name)} OWNER TO CURRENT_USER")
        conn.execute(f"REVOKE ALL ON DATABASE {_ident(name)} FROM PUBLIC")
        conn.execute(f"COMMENT ON DATABASE {_ident(name)} IS '{SEAL}'")
        conn.execute(f"ALTER DATABASE {_ident(name)} WITH ALLOW_CONNECTIONS false")
        if builder:
            with contextlib.suppress(psycopg.Error):
                conn.execute(f"DROP ROLE IF EXISTS {_ident(builder)}")


def is_sealed(conn, name: str) -> bool | None:
    """None: no such database; else whether it carries the seal and takes no connection."""
    row = conn.execute(
        "SELECT shobj_description(oid, 'pg_database') = %s AND NOT datallowconn "
        "FROM pg_database WHERE datname = %s",
        (SEAL, name),
    ).fetchone()
    return None if row is None else bool(row[0])


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
        if is_sealed(conn, name):
            return name
        key = int(hashlib.sha256(name.encode()).hexdigest()[:15], 16)
        conn.execute("SELECT pg_advisory_lock(%s)", (key,))
        try:
            sealed = is_sealed(conn, name)
            if sealed:
                return name
            if sealed is False:
                # Built before templates were sealed, or tampered with: never served.
                if on_progress:
                    on_progress(f"rebuilding template database {name} (it was not sealed)")
                _drop_template(conn, name)
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
            seal(admin_url, building)
            conn.execute(f"ALTER DATABASE {_ident(building)} RENAME TO {_ident(name)}")
            return name
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))


def _drop_template(conn, name: str) -> None:
    conn.execute(f"ALTER DATABASE {_ident(name)} WITH ALLOW_CONNECTIONS true")
    conn.execute(f"DROP DATABASE IF EXISTS {_ident(name)} WITH (FORCE)")


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
    """A fresh database cloned from ``template``; returns (name, url): the URL of the
    run's own role (see the module's doc), or the admin's where roles cannot be made.
    Observers reach the same database as the admin: ``with_database(admin_url, name)``."""
    import psycopg

    safe = re.sub(r"[^a-z0-9]", "", label.lower())[:16]
    name = f"{RUN_PREFIX}{safe}_{int(time.time())}_{secrets.token_hex(3)}"
    password = secrets.token_hex(16)
    with _connect(admin_url) as conn:
        role = _ensure_owner_role(conn)
        if role:
            conn.execute(
                f"CREATE ROLE {_ident(name)} LOGIN PASSWORD '{password}' IN ROLE {OWNER_ROLE}"
            )
        owner = f" OWNER {_ident(name)}" if role else ""
        size = conn.execute(
            "SELECT pg_database_size(oid) FROM pg_database WHERE datname = %s", (template,)
        ).fetchone()
        strategy = " STRATEGY FILE_COPY" if size and size[0] > FILE_COPY_ABOVE_BYTES else ""
        for attempt in range(20):
            try:
                conn.execute(
                    f"CREATE DATABASE {_ident(name)}{owner} TEMPLATE {_ident(template)}{strategy}"
                )
                break
            except psycopg.errors.ObjectInUse:
                # Someone is connected to the template (another clone in flight).
                if attempt == 19:
                    raise
                time.sleep(0.05 * (attempt + 1))
        conn.execute(f"REVOKE ALL ON DATABASE {_ident(name)} FROM PUBLIC")
    url = with_database(admin_url, name)
    return name, (with_user(url, name, password) if role else url)


def drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with contextlib.suppress(psycopg.Error), _connect(admin_url) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {_ident(name)} WITH (FORCE)")
        if name.startswith(RUN_PREFIX):  # its role (the run's), gone with it
            conn.execute(f"DROP ROLE IF EXISTS {_ident(name)}")


def drop_stale_runs(admin_url: str, older_than_s: float = STALE_AFTER_S) -> list[str]:
    """Drop run databases left by runs that died (killed, machine restarted)."""
    import psycopg

    dropped = []
    now = time.time()
    with contextlib.suppress(psycopg.Error), _connect(admin_url) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s UNION "
            "SELECT rolname FROM pg_roles WHERE rolname LIKE %s",
            (RUN_PREFIX + "%", RUN_PREFIX + "%"),
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

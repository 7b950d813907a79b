"""What PostgreSQL itself recorded about the service: statements per request, and plans.

Two things, read from outside the service (DESIGN.md, principle 1):

**Statements** (``StatementLog``): pg_stat_statements, read through the admin
connection (``LAB_ADMIN_DATABASE_URL``) and scoped to the run's own database
(``LAB_RUN_DATABASE_URL``): ``pg_stat_statements_reset(0, <dbid>, 0)`` clears only that
database's entries and every read filters on its ``dbid``, so parallel runs on one
server never disturb each other. The admin connection lives in another database, so its
own queries are never counted. ``capture()`` resets, lets the check send its request,
then reads the statements (normalised text, calls, rows). Transaction control (BEGIN,
COMMIT, ROLLBACK, SAVEPOINT...) and session settings (SET, SHOW) are left out: they are
how a driver talks, not work the request asked for.

A capture waits for the database to settle before reading: pg_stat_statements counts a
SELECT when its portal is closed, which for the last statement of a request is often the
transaction's end, and FastAPI closes a request's session (ROLLBACK) after the response
has been sent. So ``capture()`` waits (up to a few seconds) until no backend of the run's
database is inside a transaction or running a statement (pg_stat_activity), then reads.

**Plans** (``explain_captured``): the normalised text of a captured statement is
prepared in the run's database (``PREPARE``) and run with the values the check itself
sent, ``EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE``, inside a transaction that is
rolled back. The JSON becomes a ``Plan``: a tree of ``PlanNode`` with node types,
relation and index names, rows, rows removed by filters, loops and timings.

Why this and not auto_explain into the server log: the server log is out of reach on the
external path (another machine, or a log file only root reads, or no log collector at
all: Debian's PostgreSQL 15 logs to a file pg_current_logfile() does not know), and
auto_explain would need to be preloaded there too. PREPARE + EXPLAIN EXECUTE needs
nothing but the connection the checks already have, behaves the same on PostgreSQL 15
and 18 (``EXPLAIN (GENERIC_PLAN)`` would be simpler but starts at 16), and plans the
statement with the very parameter values the service sent (a custom plan, as the service
got for its first executions). The statement text is exactly what the service issued,
so a learner's query shape is judged, never a query we wrote.

Binding the values: ``$n`` are numbered in the statement's text order. The check passes
the values its request carried (for instance ``[customer_id, "shipped", 20]``); each
parameter takes the next value of a matching type (PostgreSQL tells the types of a
prepared statement in ``pg_prepared_statements``). When the check also knows how many
rows the answer had (``expect_rows``), a binding is accepted only if the plan returned
that many, and other bindings are tried otherwise: a learner's unusual query shape (a
constant written into the SQL, parameters in another order) still binds right.

A server without pg_stat_statements raises ``StatementsUnavailable`` whose message gives
the exact steps to enable it; checks turn it into a skip with that message.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import re
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from ..errors import StatementsUnavailable

__all__ = [
    "Plan",
    "PlanNode",
    "Statement",
    "StatementLog",
    "Statements",
    "StatementsUnavailable",
    "explain",
    "explain_captured",
    "parse_plan",
]

#: Statements a driver issues to manage its session, not work a request asked for.
_CONTROL = re.compile(
    r"^\s*(begin|commit|rollback|end|start\s+transaction|savepoint|release|set|reset|show"
    r"|discard|deallocate|prepare\s+transaction|listen|unlisten)\b",
    re.IGNORECASE,
)


def enable_steps(current_preload: str) -> str:
    """The exact steps to enable pg_stat_statements on a server (shown in a skip)."""
    libs = [x.strip() for x in current_preload.split(",") if x.strip()]
    value = ",".join([*libs, "pg_stat_statements"])
    return (
        "This check reads pg_stat_statements, which is not loaded on the PostgreSQL server "
        "in LAB_DATABASE_URL. To enable it once, as the server's superuser: "
        f"ALTER SYSTEM SET shared_preload_libraries = '{value}'; then restart the server "
        "(for example `sudo pg_ctlcluster 15 main restart`, `brew services restart "
        "postgresql`, or `docker restart <container>`). Or unset LAB_DATABASE_URL: the "
        "embedded PostgreSQL has it."
    )


# ---------------------------------------------------------------- statements


@dataclass(frozen=True)
class Statement:
    """One normalised statement and what it cost in the captured window."""

    query: str
    calls: int
    rows: int
    total_ms: float

    @property
    def verb(self) -> str:
        m = re.match(r"\s*(\w+)", self.query)
        return m.group(1).upper() if m else ""

    def touches(self, table: str) -> bool:
        """True when the statement names ``table`` (as a word, quoted or not)."""
        return (
            re.search(rf'(?<![\w$])"?{re.escape(table)}"?(?![\w$])', self.query, re.I) is not None
        )


class Statements(list[Statement]):
    """The statements of one captured window, most called first."""

    @property
    def calls(self) -> int:
        return sum(s.calls for s in self)

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self)

    def touching(self, table: str) -> Statements:
        return Statements(s for s in self if s.touches(table))

    def describe(self, limit: int = 3) -> str:
        """A short text for messages: the most called statements, shortened."""
        parts = []
        for s in self[:limit]:
            text = " ".join(s.query.split())
            text = text if len(text) <= 120 else text[:117] + "..."
            parts.append(f"{s.calls}x {text}")
        return "; ".join(parts)


def database_name(url: str) -> str:
    name = unquote(urlsplit(url).path.lstrip("/"))
    if not name:
        raise ValueError("the database URL names no database")
    return name


class StatementsEvicted(Exception):
    """pg_stat_statements evicted entries while a capture was open: its counts may be
    too low, so the check cannot judge (an error verdict, never a pass or a fail)."""

    cannot_judge = True

    def __init__(self) -> None:
        super().__init__(
            "PostgreSQL's statement statistics (pg_stat_statements) dropped entries while "
            "this check counted statements (the server keeps a bounded number, shared by "
            "every database), so the count could not be trusted. Run the check again."
        )


def settle(conn, timeout_s: float = 3.0, *, dbid: int | None = None) -> bool:
    """Wait until no other backend of a database (``dbid``, else the connection's own)
    is busy or inside a transaction; False if that did not happen in time.
    pg_stat_statements records a SELECT when its portal closes, for a request's last
    statement at transaction end, which FastAPI reaches after the response is sent: a
    count read right after the answer can miss it, and the next request is blamed."""
    import time

    where = "datid = %s" if dbid is not None else "datname = current_database()"
    deadline = time.monotonic() + timeout_s
    while True:
        busy = conn.execute(
            f"SELECT count(*) FROM pg_stat_activity WHERE {where}"
            " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            " AND state IS DISTINCT FROM 'idle'",
            (dbid,) if dbid is not None else (),
        ).fetchone()[0]
        if not busy:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)


class StatementLog:
    """pg_stat_statements of one database, read through an admin connection.

    pg_stat_statements keeps a bounded number of entries for the whole server and evicts
    the least used when full (``pg_stat_statements_info.dealloc`` counts evictions), which
    makes counts drop. ``capture`` raises ``StatementsEvicted`` when that happened while
    it was open; ``count(action)`` measures again instead (``action`` must be repeatable).
    """

    def __init__(self, admin_url: str, run_url: str) -> None:
        import psycopg

        self.database = database_name(run_url)
        self.conn = psycopg.connect(admin_url, autocommit=True, connect_timeout=10)
        try:
            self._ensure_extension()
            row = self.conn.execute(
                "SELECT oid FROM pg_database WHERE datname = %s", (self.database,)
            ).fetchone()
            if row is None:
                raise ValueError(f"no database named {self.database!r} on this server")
            self.dbid = row[0]
        except BaseException:
            self.conn.close()
            raise

    @classmethod
    def from_env(cls) -> StatementLog:
        import os

        return cls(os.environ["LAB_ADMIN_DATABASE_URL"], os.environ["LAB_RUN_DATABASE_URL"])

    def _ensure_extension(self) -> None:
        import psycopg

        preload = self.conn.execute("SHOW shared_preload_libraries").fetchone()[0] or ""
        if "pg_stat_statements" not in preload:
            raise StatementsUnavailable(enable_steps(preload))
        available = self.conn.execute(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_stat_statements'"
        ).fetchone()
        if not available:
            raise StatementsUnavailable(
                "This check reads pg_stat_statements, but the PostgreSQL server in "
                "LAB_DATABASE_URL does not have it installed: install the server's contrib "
                "package (for example `apt-get install postgresql-contrib`), then follow "
                "its steps to preload it. Or unset LAB_DATABASE_URL to use the embedded "
                "PostgreSQL."
            )
        # Several runs may create it at once; the loser of that race just sees it there.
        for _ in range(3):
            try:
                self.conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                return
            except (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateObject):
                continue

    def reset(self) -> None:
        self.conn.execute("SELECT pg_stat_statements_reset(0, %s, 0)", (self.dbid,))

    def read(self, *, include_control: bool = False) -> Statements:
        rows = self.conn.execute(
            "SELECT query, sum(calls)::bigint, sum(rows)::bigint, sum(total_exec_time)"
            " FROM pg_stat_statements WHERE dbid = %s AND calls > 0"
            " GROUP BY query ORDER BY 2 DESC, 1",
            (self.dbid,),
        ).fetchall()
        found = (Statement(q, int(c), int(r), float(t)) for q, c, r, t in rows)
        return Statements(s for s in found if include_control or not _CONTROL.match(s.query))

    def settle(self, timeout_s: float = 3.0) -> bool:
        """Wait until no backend of the database is busy or inside a transaction (so
        every statement it ran is counted); False if that did not happen in time."""
        return settle(self.conn, timeout_s, dbid=self.dbid)

    def evictions(self) -> int:
        """How many times pg_stat_statements evicted entries, server-wide, so far."""
        return int(self.conn.execute("SELECT dealloc FROM pg_stat_statements_info").fetchone()[0])

    @contextlib.contextmanager
    def capture(self) -> Iterator[Statements]:
        """``with log.capture() as got: <request>`` fills ``got`` with the statements
        (raises StatementsEvicted if entries were evicted meanwhile)."""
        got = Statements()
        self.settle()
        self.reset()
        before = self.evictions()
        yield got
        self.settle()
        got.extend(self.read())
        if self.evictions() != before:
            raise StatementsEvicted()

    def count(self, action: Callable[[], Any], *, attempts: int = 5) -> tuple[Statements, Any]:
        """``(statements action() ran, what it returned)``, measured again (up to
        ``attempts`` times) while pg_stat_statements evicts entries meanwhile."""
        for _ in range(attempts):
            try:
                with self.capture() as got:
                    value = action()
            except StatementsEvicted:
                continue
            return got, value
        raise StatementsEvicted()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> StatementLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------- plans

#: Node types that read a table (rows read = rows returned + rows a filter dropped).
SCAN_TYPES = {
    "Seq Scan",
    "Index Scan",
    "Index Only Scan",
    "Bitmap Heap Scan",
    "Tid Scan",
    "Tid Range Scan",
    "Sample Scan",
}


@dataclass
class PlanNode:
    node_type: str
    relation: str | None
    index: str | None
    actual_rows: float
    loops: float
    plan_rows: float
    total_ms: float
    removed_rows: float
    children: list[PlanNode] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, node: dict[str, Any]) -> PlanNode:
        removed = sum(
            float(node.get(k, 0) or 0)
            for k in ("Rows Removed by Filter", "Rows Removed by Index Recheck")
        )
        return cls(
            node_type=node.get("Node Type", "?"),
            relation=node.get("Relation Name"),
            index=node.get("Index Name"),
            actual_rows=float(node.get("Actual Rows", 0) or 0),
            loops=float(node.get("Actual Loops", 1) or 0),
            plan_rows=float(node.get("Plan Rows", 0) or 0),
            total_ms=float(node.get("Actual Total Time", 0) or 0),
            removed_rows=removed,
            children=[cls.from_json(c) for c in node.get("Plans", [])],
            raw={k: v for k, v in node.items() if k != "Plans"},
        )

    def walk(self) -> Iterator[PlanNode]:
        yield self
        for child in self.children:
            yield from child.walk()

    def find(self, *types: str) -> list[PlanNode]:
        return [n for n in self.walk() if n.node_type in types]

    @property
    def is_scan(self) -> bool:
        return self.node_type in SCAN_TYPES

    @property
    def rows_read(self) -> float:
        """Rows this node took from its table: the ones it returned and the ones it
        filtered out, over all its loops (0 for nodes that read no table)."""
        if not self.is_scan:
            return 0.0
        return (self.actual_rows + self.removed_rows) * max(self.loops, 1)

    def label(self) -> str:
        text = self.node_type
        if self.index:
            text += f" using {self.index}"
        if self.relation:
            text += f" on {self.relation}"
        return text


@dataclass
class Plan:
    root: PlanNode
    execution_ms: float
    planning_ms: float
    raw: list[Any] = field(default_factory=list, repr=False)

    def walk(self) -> Iterator[PlanNode]:
        return self.root.walk()

    def find(self, *types: str) -> list[PlanNode]:
        return self.root.find(*types)

    @property
    def node_types(self) -> set[str]:
        return {n.node_type for n in self.walk()}

    @property
    def indexes(self) -> set[str]:
        return {n.index for n in self.walk() if n.index}

    def scans(self, relation: str | None = None) -> list[PlanNode]:
        return [n for n in self.walk() if n.is_scan and relation in (None, n.relation)]

    def rows_read(self, relation: str | None = None) -> int:
        """Rows read from ``relation`` (or from every table), over the whole plan."""
        return round(sum(n.rows_read for n in self.scans(relation)))

    @property
    def rows_returned(self) -> int:
        return round(self.root.actual_rows)

    @property
    def buffers(self) -> int:
        """Pages the statement touched (shared buffers hit or read, children included):
        the work an index saves, whatever the version's plan looks like."""
        raw = self.root.raw
        return int(raw.get("Shared Hit Blocks", 0)) + int(raw.get("Shared Read Blocks", 0))

    def render(self) -> str:
        """The tree as indented text, with rows returned and read, and time."""
        lines: list[str] = []

        def visit(node: PlanNode, depth: int) -> None:
            facts = [f"rows={_number(node.actual_rows)}"]
            if node.is_scan:
                facts.append(f"read={_number(node.rows_read)}")
            if node.loops > 1:
                facts.append(f"loops={_number(node.loops)}")
            facts.append(f"{node.total_ms:.3f} ms")
            arrow = "-> " if depth else ""
            lines.append(f"{'   ' * depth}{arrow}{node.label()} ({', '.join(facts)})")
            for child in node.children:
                visit(child, depth + 1)

        visit(self.root, 0)
        pages = f", {self.buffers} pages touched" if "Shared Hit Blocks" in self.root.raw else ""
        lines.append(f"Execution time: {self.execution_ms:.3f} ms{pages}")
        return "\n".join(lines)


def _number(value: float) -> str:
    """1000000 as ``1000000`` (never ``1e+06``); 18's fractional rows as ``0.5``."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def parse_plan(document: Any) -> Plan:
    """A ``Plan`` from the output of ``EXPLAIN (FORMAT JSON)`` (text or parsed)."""
    import json

    if isinstance(document, str):
        document = json.loads(document)
    top = document[0] if isinstance(document, list) else document
    return Plan(
        root=PlanNode.from_json(top["Plan"]),
        execution_ms=float(top.get("Execution Time", 0.0)),
        planning_ms=float(top.get("Planning Time", 0.0)),
        raw=document if isinstance(document, list) else [document],
    )


# ---------------------------------------------------------------- explaining

_INTEGER = {"smallint", "integer", "bigint"}
_NUMBER = _INTEGER | {"numeric", "real", "double precision"}
_TEXT = {"text", "character varying", "character", "citext", "name", "unknown", "bpchar"}


def _fits(pg_type: str, value: Any) -> bool:
    t = pg_type.split("(")[0].strip().lower()
    if value is None:
        return True
    if isinstance(value, bool):
        return t == "boolean"
    if isinstance(value, int):
        return t in _NUMBER
    if isinstance(value, float):
        return t in _NUMBER - _INTEGER
    if isinstance(value, str):
        return t in _TEXT or t.startswith(("timestamp", "date", "uuid")) or t not in _NUMBER
    if isinstance(value, dt.datetime):
        return t.startswith("timestamp")
    if isinstance(value, dt.date):
        return t == "date"
    return True


def _bindings(types: Sequence[str], values: Sequence[Any], cap: int = 64) -> Iterator[tuple]:
    """Candidate assignments of ``values`` to parameters of ``types``: first each
    parameter takes the next unused value of its type, then every combination."""
    first: list[Any] = []
    used: set[int] = set()
    for t in types:
        pick = next((i for i, v in enumerate(values) if i not in used and _fits(t, v)), None)
        if pick is None:  # reuse a value (a parameter written twice)
            pick = next((i for i, v in enumerate(values) if _fits(t, v)), None)
        if pick is None:
            return
        used.add(pick)
        first.append(values[pick])
    yield tuple(first)
    options = [[v for v in values if _fits(t, v)] for t in types]
    for n, combo in enumerate(itertools.product(*options)):
        if n >= cap:
            return
        if list(combo) != first:
            yield combo


def explain(conn, query: str, values: Sequence[Any] = (), *, analyze: bool = True) -> Plan:
    """EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) of ``query`` (``$n`` parameters bound to
    ``values`` in order), in a transaction that is rolled back."""
    plan, _ = _explain_each(conn, query, [tuple(values)], analyze=analyze, expect_rows=None)
    return plan


def explain_captured(
    conn,
    statement: Statement | str,
    values: Sequence[Any],
    *,
    expect_rows: int | None = None,
    repeat: int = 1,
) -> Plan:
    """The plan of a captured statement run with the values the check sent.

    ``values`` are bound by type in order (see the module docstring); with
    ``expect_rows``, the binding whose plan returns that many rows wins. ``repeat`` runs
    the winning binding again and keeps the fastest run (for timings).
    Raises ``ValueError`` when no binding fits.
    """
    query = statement.query if isinstance(statement, Statement) else statement
    types = _parameter_types(conn, query)
    plan, binding = _explain_each(
        conn, query, list(_bindings(types, list(values))), analyze=True, expect_rows=expect_rows
    )
    for _ in range(repeat - 1):
        again = _explain_each(conn, query, [binding], analyze=True, expect_rows=None)[0]
        if again.execution_ms < plan.execution_ms:
            plan = again
    return plan


def _parameter_types(conn, query: str) -> list[str]:
    from psycopg import sql

    name = f"lab_probe_{secrets.token_hex(4)}"
    conn.execute(sql.SQL("PREPARE {} AS ").format(sql.Identifier(name)) + sql.SQL(query))
    try:
        row = conn.execute(
            "SELECT parameter_types::text[] FROM pg_prepared_statements WHERE name = %s",
            (name,),
        ).fetchone()
        return list(row[0] or [])
    finally:
        conn.execute(sql.SQL("DEALLOCATE {}").format(sql.Identifier(name)))


def _explain_each(conn, query, bindings, *, analyze, expect_rows) -> tuple[Plan, tuple]:
    import psycopg
    from psycopg import sql

    if not bindings:
        raise ValueError("the values the check sent do not fit the statement's parameters")
    options = "ANALYZE, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON"
    name = f"lab_explain_{secrets.token_hex(4)}"
    conn.execute(sql.SQL("PREPARE {} AS ").format(sql.Identifier(name)) + sql.SQL(query))
    first: tuple[Plan, tuple] | None = None
    try:
        for binding in bindings:
            args = sql.SQL("")
            if binding:
                args = sql.SQL("({})").format(sql.SQL(", ").join(sql.Literal(v) for v in binding))
            stmt = sql.SQL("EXPLAIN ({}) EXECUTE {}{}").format(
                sql.SQL(options), sql.Identifier(name), args
            )
            try:
                with conn.transaction(force_rollback=True):
                    document = conn.execute(stmt).fetchone()[0]
            except psycopg.DataError:
                continue  # a value that does not convert to that parameter's type
            plan = parse_plan(document)
            if expect_rows is None or plan.rows_returned == expect_rows:
                return plan, binding
            first = first or (plan, binding)
    finally:
        conn.execute(sql.SQL("DEALLOCATE {}").format(sql.Identifier(name)))
    if first is None:
        raise ValueError("the values the check sent do not fit the statement's parameters")
    return first  # no binding gave the expected rows: the first, as the check will say

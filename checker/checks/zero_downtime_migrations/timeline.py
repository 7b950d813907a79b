"""The rollout, played once per run and recorded; each check judges a part of the record.

1. The checker's v1 (v1_app.py, never the learner's code) serves on the run's database,
   at revision 0001, under a steady client that records every answer.
2. An analyst's transaction holds ACCESS SHARE on customers while ``alembic upgrade
   expand`` starts: held until the migration gives up (its lock_timeout), or 12 s at most.
   Released, and the expand re-run if it gave up.
3. v2 (the learner's service) beside v1: names written through one read through the other.
4. v1 stops; ``alembic upgrade contract``; v2 writes again.
5. Throughout, a sampler reads pg_locks and pg_blocking_pids() every 20 ms, and another
   counts the customers whose full_name is still NULL.

The revisions run as processes of their own (``migrate.py``) in the learner's workspace,
as the run's own database role, with ``client_min_messages = debug1``: what PostgreSQL
says about each statement (``rewriting table``, ``verifying table``, ``existing
constraints ... are sufficient to prove ...``) reaches the migration's own connection and
is recorded beside the statement that caused it. The round trip (upgrade, downgrade to
0001, upgrade) runs meanwhile on an empty database of its own.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from checker.people import FIRST, LAST, People


def person(rng, *, unlike: str = "") -> str:
    """A customer's name as people write theirs (no marker of the check that sent it),
    never ``unlike`` (a rename must change the name)."""
    while True:
        first, last = rng.choice(FIRST).capitalize(), rng.choice(LAST).capitalize()
        name = rng.choice((f"{first} {last}", f"{first} {rng.choice(FIRST)[0].upper()}. {last}",
                           f"{first} {last}-{rng.choice(LAST).capitalize()}"))  # fmt: skip
        if name != unlike:
            return name


HERE = Path(__file__).resolve().parent
MIGRATION_APP = "lab-migration"  # application_name of the migration's connections
V1_APP = "folio-v1"
BLOCKER_MAX_S = 12.0
#: A migration that has waited this long behind the analyst never gave up within the
#: README's 3 s: the verdict is known, and the analyst need not hold the other 8 s.
VERDICT_KNOWN_S = 4.0
SAMPLE_S = 0.02
COUNT_EVERY_S = 0.1
CLIENT_TIMEOUT_S = 25.0  # longer than the blocker: a request stuck behind it is slow, not lost
MIGRATE_TIMEOUT_S = 150.0

#: Every lock on customers or orders, and every lock someone waits for, in this database.
_LOCKS = """
SELECT l.pid, a.application_name, l.locktype, c.relname, l.mode, l.granted,
       l.virtualtransaction,
       CASE WHEN NOT l.granted THEN pg_blocking_pids(l.pid) END
FROM pg_locks l
JOIN pg_stat_activity a ON a.pid = l.pid
LEFT JOIN pg_class c ON c.oid = l.relation
WHERE l.database IS NOT DISTINCT FROM (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.pid <> pg_backend_pid()
  AND (c.relname IN ('customers', 'orders') OR NOT l.granted)
"""


@dataclass
class Lock:
    pid: int
    app: str
    kind: str
    rel: str | None
    mode: str
    granted: bool
    vxid: str
    blockers: list[int]


@dataclass
class Sample:
    t: float
    locks: list[Lock]


@dataclass
class Request:
    op: str
    t0: float
    t1: float
    status: int | None
    error: str | None = None


@dataclass
class Migration:
    target: str
    code: int | None = None
    t0: float = 0.0
    t1: float = 0.0
    output: str = ""
    events: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.code == 0

    def tail(self, n: int = 1500) -> str:
        lines = [ln for ln in self.output.splitlines() if not ln.startswith("LABEVENT ")]
        return "\n".join(lines)[-n:]


@dataclass
class Record:
    error: str | None = None
    customers: int = 0
    migrations: dict[str, list[Migration]] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)
    unfilled: list[tuple[float, int]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    blocker: tuple[float, float] = (0.0, 0.0)
    blocker_waiters: int = 0
    phases: dict[str, float] = field(default_factory=dict)
    sync: dict[str, Any] = field(default_factory=dict)
    after_contract: dict[str, Any] = field(default_factory=dict)
    relfilenodes: dict[str, dict[str, int]] = field(default_factory=dict)
    catalog: dict[str, Any] = field(default_factory=dict)
    round_trip: Any = None
    fk_scan_s: float = 0.0
    v1_log: str = ""

    def runs(self, target: str) -> list[Migration]:
        return self.migrations.get(target, [])

    def succeeded(self, target: str) -> bool:
        return any(m.ok for m in self.runs(target))

    def migration_pids(self) -> set[int]:
        return {lk.pid for s in self.samples for lk in s.locks if lk.app == MIGRATION_APP}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sampler:
    """pg_locks every 20 ms; full_name's NULL count as often as it can be counted."""

    def __init__(self, url: str, record: Record) -> None:
        self.url, self.record = url, record
        self.stop = threading.Event()
        self.count_from = threading.Event()  # counting starts with the expand
        self.threads = [
            threading.Thread(target=self._locks, daemon=True),
            threading.Thread(target=self._count, daemon=True),
        ]
        for t in self.threads:
            t.start()

    def _locks(self) -> None:
        with psycopg.connect(self.url, autocommit=True, application_name="lab-sampler") as conn:
            while not self.stop.is_set():
                t = time.monotonic()
                rows = conn.execute(_LOCKS).fetchall()
                self.record.samples.append(
                    Sample(
                        t,
                        [
                            Lock(
                                r[0],
                                r[1] or "",
                                r[2],
                                r[3],
                                r[4],
                                r[5],
                                r[6] or "",
                                list(r[7] or []),
                            )
                            for r in rows
                        ],
                    )  # fmt: skip
                )
                time.sleep(max(0.0, SAMPLE_S - (time.monotonic() - t)))

    def _count(self) -> None:
        with psycopg.connect(self.url, autocommit=True, application_name="lab-sampler") as conn:
            conn.execute("SET lock_timeout = '50ms'")
            while not self.stop.is_set():
                if not self.count_from.is_set():
                    time.sleep(0.01)
                    continue
                t = time.monotonic()
                try:
                    n = conn.execute(
                        "SELECT count(*) FROM customers WHERE full_name IS NULL"
                    ).fetchone()[0]
                except psycopg.Error:  # no column yet, or a lock held: try again
                    time.sleep(0.02)
                    continue
                self.record.unfilled.append((t, int(n)))
                time.sleep(COUNT_EVERY_S)  # a count reads every customer: not back to back

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(10)


class SteadyClient:
    """v1's users: reads, renames, sign-ups and orders, three at a time, all recorded."""

    def __init__(self, url: str, record: Record, rng: random.Random, customers: int) -> None:
        self.url, self.record, self.customers = url, record, customers
        self.stop = threading.Event()
        self.seeds = [rng.randrange(1 << 30) for _ in range(3)]
        self.threads = [
            threading.Thread(target=self._run, args=(s,), daemon=True) for s in self.seeds
        ]
        for t in self.threads:
            t.start()

    def _run(self, seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=self.url, timeout=CLIENT_TIMEOUT_S) as client:
            while not self.stop.is_set():
                # The lower half of the customers: the upper half is the checks' own.
                cid = rng.randint(1, max(1, self.customers // 2))
                op = rng.choice(["read", "read", "rename", "order", "order", "signup"])
                t0 = time.monotonic()
                try:
                    if op == "read":
                        r = client.get(f"/customers/{cid}")
                    elif op == "rename":
                        r = client.patch(
                            f"/customers/{cid}", json={"name": f"Reader {rng.randrange(10**6)}"}
                        )
                    elif op == "order":
                        r = client.post(
                            "/orders",
                            json={"customer_id": cid, "total_cents": rng.randint(100, 9000)},
                        )
                    else:
                        n = rng.randrange(10**9)
                        r = client.post(
                            "/customers",
                            json={"email": f"steady.{n}@example.org", "name": f"Steady {n}"},
                        )
                    self.record.requests.append(Request(op, t0, time.monotonic(), r.status_code))
                except httpx.HTTPError as exc:
                    self.record.requests.append(
                        Request(op, t0, time.monotonic(), None, f"{type(exc).__name__}: {exc}")
                    )
                time.sleep(0.03)

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(CLIENT_TIMEOUT_S + 5)


class V1:
    """The checker's released v1, as a process of its own."""

    def __init__(self, database_url: str, log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {k: v for k, v in os.environ.items() if not k.startswith("LAB_")}
        env.update(DATABASE_URL=database_url, PYTHONDONTWRITEBYTECODE="1")
        self._out = open(log, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "v1_app:app", "--host", "127.0.0.1",
             "--port", str(self.port), "--no-access-log", "--log-level", "warning"],
            # In the checks' own process group, not a session of its own: when the run
            # kills the checks (an interrupted or timed-out run), v1 goes with them.
            cwd=HERE, env=env, stdin=subprocess.DEVNULL, stdout=self._out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip

    def wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"v1 exited: {self.log.read_text()[-800:]}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("v1 did not become healthy")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._out.close()


class Timeline:
    def __init__(self, *, admin_url: str, service_url: str, root_admin_url: str,
                 workspace: Path, workdir: Path, rng: random.Random,
                 progress=lambda text: None) -> None:  # fmt: skip
        self.admin_url, self.service_url, self.root_admin_url = (
            admin_url,
            service_url,
            root_admin_url,
        )
        self.workspace, self.workdir, self.rng, self.progress = workspace, workdir, rng, progress
        self.record = Record()
        self.t_origin = time.monotonic()
        self._spawned: list[subprocess.Popen] = []

    # ---------------------------------------------------------------- migrations

    def spawn(self, target: str, verb: str = "upgrade") -> tuple[subprocess.Popen, Path]:
        """A migration process, loaded and held until ``go`` (its Python start-up, a
        second or more on a busy machine, is paid while something else happens)."""
        from migrate import command

        out = self.workdir / f"migrate-{verb}-{target}-{len(self._spawned)}.log"
        cmd, env, preexec = command(self.workspace, verb, target, self.service_url, hold=True)
        fh = open(out, "wb")
        proc = subprocess.Popen(
            cmd, cwd=self.workspace, env=env, stdin=subprocess.PIPE, stdout=fh,
            stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=preexec,
        )  # fmt: skip
        fh.close()
        self._spawned.append(proc)
        return proc, out

    def go(self, held: tuple[subprocess.Popen, Path], target: str):
        """Let a held migration run; (process, its record, its output file)."""
        proc, out = held
        try:
            proc.stdin.write(b"go\n")
            proc.stdin.close()
        except OSError:  # it died while held: finish_migration reports its output
            pass
        m = Migration(target, t0=time.monotonic())
        self.record.migrations.setdefault(target, []).append(m)
        return proc, m, out

    def discard(self) -> None:
        """Held processes never told to go: told to stop, then stopped."""
        for proc in self._spawned:
            if proc.poll() is None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
                try:
                    proc.wait(2)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(5)

    def finish_migration(
        self, proc, m: Migration, out: Path, timeout: float = MIGRATE_TIMEOUT_S
    ) -> Migration:
        from migrate import parse

        try:
            m.code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            m.code = None
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        m.t1 = time.monotonic()
        m.output = out.read_text("utf-8", "replace")
        m.events = parse(m.output)
        return m

    # ---------------------------------------------------------------- the rollout

    def _catalog(self, conn) -> dict[str, Any]:
        cols = {r[0]: r[1] for r in conn.execute(
            "SELECT attname, attnotnull FROM pg_attribute WHERE attrelid = 'customers'::regclass"
            " AND attnum > 0 AND NOT attisdropped")}  # fmt: skip
        triggers = [r[0] for r in conn.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'customers'::regclass AND NOT tgisinternal")]  # fmt: skip
        indexes = [
            {"name": r[0], "valid": r[1], "ready": r[2], "columns": r[3], "partial": r[4]}
            for r in conn.execute(
                "SELECT c.relname, i.indisvalid, i.indisready,"
                " ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(n, o)"
                "       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o),"
                " i.indpred IS NOT NULL"
                " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                " WHERE i.indrelid = 'orders'::regclass"
            )
        ]
        fks = [
            {"name": r[0], "validated": r[1], "columns": r[2], "references": r[3]}
            for r in conn.execute(
                "SELECT conname, convalidated,"
                " ARRAY(SELECT a.attname FROM unnest(conkey) k(n) JOIN pg_attribute a"
                "       ON a.attrelid = conrelid AND a.attnum = k.n),"
                " confrelid::regclass::text"
                " FROM pg_constraint WHERE conrelid = 'orders'::regclass AND contype = 'f'"
            )
        ]
        checks = [
            {"name": r[0], "validated": r[1], "definition": r[2]}
            for r in conn.execute(
                "SELECT conname, convalidated, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conrelid = 'customers'::regclass AND contype = 'c'"
            )
        ]
        return {"columns": cols, "triggers": triggers, "indexes": indexes, "fks": fks,
                "checks": checks}  # fmt: skip

    def _relfilenodes(self, conn) -> dict[str, int]:
        return {r[0]: int(r[1]) for r in conn.execute(
            "SELECT relname, relfilenode FROM pg_class WHERE relname IN ('customers', 'orders')"
            " AND relnamespace = 'public'::regnamespace")}  # fmt: skip

    def _fk_scan(self, conn) -> float:
        """How long checking every order against customers takes here, now: the query
        PostgreSQL runs to validate the foreign key (best of two). The bonus check
        compares the migration's SHARE ROW EXCLUSIVE hold with it, in the same run."""
        best = float("inf")
        for _ in range(2):
            t = time.monotonic()
            conn.execute(
                "SELECT fk.customer_id FROM ONLY orders fk LEFT JOIN ONLY customers pk"
                " ON pk.id = fk.customer_id WHERE pk.id IS NULL LIMIT 1"
            ).fetchall()
            best = min(best, time.monotonic() - t)
        return best

    def _mark(self, name: str) -> None:
        self.record.phases[name] = time.monotonic()

    def run(self, base_url: str) -> Record:
        rec = self.record
        try:
            self._run(base_url)
        except Exception as exc:  # recorded: each check says what it could not see
            rec.error = f"{type(exc).__name__}: {exc}"
        return rec

    def _run(self, base_url: str) -> None:
        rec = self.record
        from checker.migration_roundtrip import round_trip

        trip: dict[str, Any] = {}

        def _trip() -> None:
            from migrate import confine

            try:
                trip["result"] = round_trip(self.workspace, "alembic.ini", self.root_admin_url,
                                            "0001", _migration_env(self.workspace),
                                            confine=confine())  # fmt: skip
            except Exception as exc:
                trip["error"] = f"{type(exc).__name__}: {exc}"

        tripper = threading.Thread(target=_trip, daemon=True)
        v1 = V1(self.service_url, self.workdir / "v1.log")
        first_try, second_try = self.spawn("expand"), self.spawn("expand")
        client = sampler = None
        try:
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                rec.customers = int(conn.execute("SELECT max(id) FROM customers").fetchone()[0])
                rec.relfilenodes["before"] = self._relfilenodes(conn)
                v1.wait_healthy()
                sampler = Sampler(self.admin_url, rec)
                client = SteadyClient(v1.url, rec, self.rng, rec.customers)
                self._mark("start")
                time.sleep(0.4)  # v1 serving before anything changes

                # ---- expand, behind an analyst's long transaction on customers
                self.progress("alembic upgrade expand, behind an analyst's open transaction")
                blocker = psycopg.connect(
                    self.admin_url, autocommit=False, application_name="lab-analyst"
                )
                blocker.execute("SELECT count(*) FROM customers WHERE id <= 100")
                rec.blocker = (time.monotonic(), 0.0)
                sampler.count_from.set()
                proc, m, out = self.go(first_try, "expand")
                self._mark("expand")
                self._hold_blocker(proc)
                blocker.rollback()
                blocker.close()
                rec.blocker = (rec.blocker[0], time.monotonic())
                self.progress("alembic upgrade expand")
                first = self.finish_migration(proc, m, out)
                tripper.start()
                if not first.ok:  # gave up on its lock, as it should: run it again
                    self.finish_migration(*self.go(second_try, "expand"))
                if not rec.succeeded("expand"):
                    rec.catalog["expanded"] = self._catalog(conn)  # what it left behind
                    raise _Stop()
                self._backfill_command()
                self._mark("expanded")
                rec.catalog["expanded"] = self._catalog(conn)
                rec.fk_scan_s = self._fk_scan(conn)

                # ---- v2 beside v1
                self.progress("v2 beside v1")
                contract = self.spawn("contract")
                rec.sync = self._sync(base_url, v1.url)
                self._mark("side_by_side_done")
                client.close()
                client = None
                v1.stop()
                self._mark("v1_stopped")

                # ---- contract
                self.progress("alembic upgrade contract")
                self.finish_migration(*self.go(contract, "contract"))
                self._mark("contracted")
                sampler.close()
                sampler = None
                if rec.succeeded("contract"):
                    rec.catalog["contracted"] = self._catalog(conn)
                    rec.after_contract = self._after_contract(base_url, conn)
                rec.relfilenodes["after"] = self._relfilenodes(conn)
        except _Stop:
            pass
        finally:
            self.discard()
            if client is not None:
                client.close()
            if sampler is not None:
                sampler.close()
            v1.stop()
            rec.v1_log = (self.workdir / "v1.log").read_text("utf-8", "replace")[-3000:]
            if tripper.is_alive() or not tripper.ident:
                if not tripper.ident:
                    tripper.start()
                self.progress("alembic round trip on an empty database")
                tripper.join(90)
            rec.round_trip = trip

    def _hold_blocker(self, proc: subprocess.Popen) -> None:
        """Hold the analyst's transaction until the migration exits (it gave up; the
        checker runs it again), or gave up twice while still running (it retries by
        itself: a second attempt must give up too), or has waited 4 s in one go (it does
        not give up: judged), or 12 s passed."""
        rec = self.record
        t0 = rec.blocker[0]
        gave_up = 0
        current: str | None = None  # the vxid of the wait going on
        since = 0.0  # when it began
        seen = len(rec.samples)
        while time.monotonic() - t0 < BLOCKER_MAX_S:
            if proc.poll() is not None:
                return
            now = rec.samples[seen:]
            seen += len(now)
            for s in now:
                waiting = [lk for lk in s.locks if lk.app == MIGRATION_APP and not lk.granted]
                rec.blocker_waiters = max(
                    rec.blocker_waiters,
                    sum(1 for lk in s.locks if not lk.granted and lk.app != MIGRATION_APP),
                )
                key = f"{waiting[0].pid}:{waiting[0].vxid}" if waiting else None
                if current is not None and key != current:
                    gave_up += 1  # the wait ended (or a new one began) while the blocker held
                if key is not None and key != current:
                    since = s.t
                current = key
                if current is not None and s.t - since >= VERDICT_KNOWN_S:
                    return  # waited past any lock_timeout the README allows: judged already
            if gave_up >= 2:
                return
            time.sleep(0.02)

    def _backfill_command(self) -> None:
        """The README's alternative: a backfill the team runs between expand and contract,
        ``python -m app.backfill``, if the workspace has one."""
        if not (self.workspace / "app" / "backfill.py").is_file():
            return
        from migrate import backfill_command

        self.progress("python -m app.backfill")
        out = self.workdir / "backfill.log"
        cmd, env, preexec = backfill_command(self.workspace, self.service_url)
        with open(out, "wb") as fh:
            proc = subprocess.run(
                cmd, cwd=self.workspace, env=env, stdin=subprocess.DEVNULL, stdout=fh,
                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=preexec,
                timeout=MIGRATE_TIMEOUT_S, check=False,
            )  # fmt: skip
        m = Migration("backfill", code=proc.returncode, output=out.read_text("utf-8", "replace"))
        self.record.migrations.setdefault("backfill", []).append(m)

    def _sync(self, v2_url: str, v1_url: str) -> dict[str, Any]:
        rng = self.rng
        got: dict[str, Any] = {}
        # No keep-alive: after an unhandled error uvicorn resets the connection.
        limits = httpx.Limits(max_keepalive_connections=0)
        people = People(rng)  # names and emails with no marker of which version wrote them
        with httpx.Client(base_url=v2_url, timeout=10, limits=limits) as v2, \
                httpx.Client(base_url=v1_url, timeout=10, limits=limits) as v1:  # fmt: skip
            # written through v2, read through v1
            name = person(rng)
            got["v2_create"] = {"sent": name, **_call(v2, "POST", "/customers",
                                json={"email": people.email(), "full_name": name})}  # fmt: skip
            cid = _id(got["v2_create"])
            if cid:
                got["v1_reads_v2_create"] = _call(v1, "GET", f"/customers/{cid}")
                renamed = person(rng, unlike=name)
                got["v2_rename"] = {"sent": renamed, **_call(v2, "PATCH", f"/customers/{cid}",
                                    json={"full_name": renamed})}  # fmt: skip
                got["v1_reads_v2_rename"] = _call(v1, "GET", f"/customers/{cid}")
            # written through v1, read through v2
            name1 = person(rng, unlike=name)
            got["v1_create"] = {"sent": name1, **_call(v1, "POST", "/customers",
                                json={"email": people.email(), "name": name1})}  # fmt: skip
            cid1 = _id(got["v1_create"])
            if cid1:
                got["v2_reads_v1_create"] = _call(v2, "GET", f"/customers/{cid1}")
                renamed1 = person(rng, unlike=name1)
                got["v1_rename"] = {"sent": renamed1, **_call(v1, "PATCH", f"/customers/{cid1}",
                                    json={"name": renamed1})}  # fmt: skip
                got["v2_reads_v1_rename"] = _call(v2, "GET", f"/customers/{cid1}")
            # an existing customer, renamed through v2
            old = rng.randint(self.record.customers // 2 + 1, self.record.customers)
            renamed2 = person(rng)
            got["v2_rename_old"] = {"id": old, "sent": renamed2, **_call(
                v2, "PATCH", f"/customers/{old}", json={"full_name": renamed2})}  # fmt: skip
            got["v1_reads_v2_rename_old"] = _call(v1, "GET", f"/customers/{old}")
        return got

    def _after_contract(self, v2_url: str, conn) -> dict[str, Any]:
        rng = self.rng
        got: dict[str, Any] = {}
        limits = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=v2_url, timeout=10, limits=limits) as v2:
            name = person(rng)
            got["create"] = {"sent": name, **_call(v2, "POST", "/customers",
                             json={"email": People(rng).email(), "full_name": name})}  # fmt: skip
            cid = _id(got["create"]) or rng.randint(1, self.record.customers)
            renamed = person(rng, unlike=name)
            got["rename"] = {"sent": renamed, **_call(v2, "PATCH", f"/customers/{cid}",
                             json={"full_name": renamed})}  # fmt: skip
            got["read"] = _call(v2, "GET", f"/customers/{cid}")
            body = got["read"].get("body")
            got["read"]["full_name"] = body.get("full_name") if isinstance(body, dict) else None
            got["order"] = _call(v2, "POST", "/orders",
                                 json={"customer_id": cid, "total_cents": rng.randint(100, 9000)})  # fmt: skip
        # Can full_name still hold a NULL? Tried, and rolled back.
        try:
            with conn.transaction(force_rollback=True):
                conn.execute(
                    "INSERT INTO customers (email, full_name) VALUES ('null.probe@example.org', NULL)"
                )
            got["null_refused"] = None
        except psycopg.errors.IntegrityError as exc:
            got["null_refused"] = type(exc).__name__
        except psycopg.Error as exc:
            got["null_refused"] = None
            got["null_error"] = f"{type(exc).__name__}: {exc}"
        return got


def _call(client: httpx.Client, method: str, path: str, **kw) -> dict[str, Any]:
    """One request: its status and body, or the error that stood for an answer."""
    try:
        r = client.request(method, path, **kw)
    except httpx.HTTPError as exc:
        return {"status": None, "body": f"{type(exc).__name__}: {exc}"}
    try:
        body = r.json()
    except ValueError:
        body = r.text[:300]
    return {"status": r.status_code, "body": body}


def _id(answer: dict[str, Any]) -> int | None:
    body = answer.get("body")
    if answer.get("status") == 201 and isinstance(body, dict) and isinstance(body.get("id"), int):
        return body["id"]
    return None


class _Stop(Exception):
    """The expand never succeeded: the rest of the rollout cannot happen."""


def _migration_env(workspace: Path) -> dict[str, str]:
    from migrate import base_env

    return base_env(workspace)

"""The gradebook: every graded run, kept with its full signed result JSON.

SQLModel over a SQLite file in the instructor's state folder by default
(``.lab/instructor/gradebook.db``), or any SQLAlchemy URL (``--db`` or
``LAB_GRADEBOOK_URL``), PostgreSQL included (``postgresql://`` is read as psycopg 3).
One row per run, one row per check of a run (for the dashboard's history and the
checks most students fail), and nothing is ever overwritten: a student's best and
latest come from the runs.

Three small tables are kept up to date by `record` so the dashboard never scans every
run: ``graded_cell`` (per student and lab: best, attempts, the latest run),
``graded_failure`` (the failing checks of each student's latest run of a lab, with the
group they fall in: the check's failure kind, or the shape of its message) and
``graded_day`` (runs and passes per day and lab). They are derived data: `rebuild`
recomputes them from the runs (done on opening a gradebook that lacks them).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Index, Text, case, func, inspect, text
from sqlmodel import Field, Session, SQLModel, create_engine, delete, select, update

from .signing import instructor_dir


class GradedRun(SQLModel, table=True):
    __tablename__ = "graded_run"
    __table_args__ = (Index("ix_graded_run_student_lab", "student", "lab", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    batch: str = Field(index=True)  # one `lab grade` invocation
    student: str = Field(index=True)
    lab: str = Field(index=True)
    status: str
    score: int
    max_score: int
    started_at: str
    recorded_at: str
    duration_s: float
    result_json: str = Field(sa_column=Column(Text, nullable=False))  # signed, in full


class GradedCheck(SQLModel, table=True):
    __tablename__ = "graded_check"
    __table_args__ = (Index("ix_graded_check_student_lab", "student", "lab", "run_id"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="graded_run.id", index=True)
    student: str = Field(index=True)
    lab: str = Field(index=True)
    check_id: str
    title: str
    status: str
    points: int
    message: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    kind: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    hint: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class GradedCell(SQLModel, table=True):
    """Per student and lab: the best score, the attempts and the latest run (derived)."""

    __tablename__ = "graded_cell"

    student: str = Field(primary_key=True)
    lab: str = Field(primary_key=True, index=True)
    best: int
    max_score: int
    attempts: int
    passed: int  # 1 if any run passed
    last_run_id: int
    last_status: str
    last_score: int
    last_at: str


class GradedFailure(SQLModel, table=True):
    """A failing check of a student's latest run of a lab, and its group (derived)."""

    __tablename__ = "graded_failure"
    __table_args__ = (
        Index("ix_graded_failure_lab_check", "lab", "check_id", "group_id"),
        Index("ix_graded_failure_group_student", "group_id", "student"),
    )

    id: int | None = Field(default=None, primary_key=True)
    student: str = Field(index=True)
    lab: str
    run_id: int
    check_id: str  # RUN_CHECK when the run itself could not be judged
    title: str
    status: str
    kind: str
    group_id: str  # a short hash of (lab, check, kind or message shape)
    shape: str  # the message with its values taken out
    message: str = Field(sa_column=Column(Text, nullable=False))
    hint: str = Field(sa_column=Column(Text, nullable=False))


class GradedDay(SQLModel, table=True):
    """Runs and passing runs per day (of ``started_at``) and lab (derived)."""

    __tablename__ = "graded_day"

    day: str = Field(primary_key=True)
    lab: str = Field(primary_key=True)
    runs: int
    passed: int


TABLES = [t.__table__ for t in (GradedRun, GradedCheck, GradedCell, GradedFailure, GradedDay)]
RUN_CHECK = "(run)"  # the pseudo check of a run that could not be judged
FAILING = ("fail", "error")

_SHAPES = [
    (re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`"), "'…'"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "ID"),
    (re.compile(r"\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b", re.I), "ID"),
    (re.compile(r"\b[\w.+-]+@[\w-]+(\.[\w-]+)+\b"), "EMAIL"),
    (re.compile(r"-?\d+(\.\d+)?"), "N"),
    (re.compile(r"\s+"), " "),
]


def message_shape(message: str) -> str:
    """A message with its values taken out (quoted values, ids, numbers), so that two
    students who failed the same way, with other values, share one shape."""
    shape = message.strip()
    for pattern, repl in _SHAPES:
        shape = pattern.sub(repl, shape)
    return shape[:300]


def group_of(lab: str, check_id: str, kind: str, message: str) -> tuple[str, str]:
    """(group id, shape): a failure's group is its check and kind, or its check and the
    shape of its message when the check named no kind."""
    shape = message_shape(message)
    key = f"{lab}\0{check_id}\0" + (f"kind:{kind}" if kind else f"shape:{shape}")
    return hashlib.sha256(key.encode()).hexdigest()[:12], shape


def default_url() -> str:
    return os.environ.get("LAB_GRADEBOOK_URL") or f"sqlite:///{instructor_dir() / 'gradebook.db'}"


def _sqlalchemy_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass
class Cell:
    best: int
    max_score: int
    attempts: int
    last_status: str
    passed: bool
    last_score: int = 0
    last_at: str = ""

    @property
    def ratio(self) -> float:
        return self.best / self.max_score if self.max_score else 0.0


@dataclass
class FailureGroup:
    id: str
    lab: str
    check_id: str
    title: str
    kind: str
    shape: str
    message: str  # one representative message
    hint: str
    count: int
    students: list[str] = field(default_factory=list)


def _failures_of(doc: dict[str, Any], run_id: int) -> list[dict[str, Any]]:
    """The rows of graded_failure for one signed result (its failing checks)."""
    student, lab = doc["student"], doc["lab"]
    rows = []
    checks = [c for c in doc.get("checks", []) if c.get("status") in FAILING]
    if not doc.get("checks") and doc.get("error"):
        err = doc["error"]
        kind = str(err.get("kind", "")).replace("_", "-")
        checks = [{"id": RUN_CHECK, "title": "The run could not be judged", "status": "error",
                   "kind": kind, "message": err.get("message", "")}]  # fmt: skip
    for c in checks:
        kind, message = c.get("kind", ""), c.get("message", "")
        gid, shape = group_of(lab, c["id"], kind, message)
        rows.append(dict(student=student, lab=lab, run_id=run_id, check_id=c["id"],
                         title=c.get("title", c["id"]), status=c["status"], kind=kind,
                         group_id=gid, shape=shape, message=message,
                         hint=c.get("hint", "")))  # fmt: skip
    return rows


class Gradebook:
    def __init__(self, url: str | None = None) -> None:
        self.url = url or default_url()
        self.engine = create_engine(_sqlalchemy_url(self.url))
        SQLModel.metadata.create_all(self.engine, tables=TABLES)
        self._migrate()

    def close(self) -> None:
        self.engine.dispose()

    def _migrate(self) -> None:
        """Bring a gradebook made by an older version up to date: the kind and hint
        columns of graded_check, the derived tables filled from the runs."""
        have = {c["name"] for c in inspect(self.engine).get_columns("graded_check")}
        with self.engine.begin() as conn:
            for col in ("kind", "hint"):
                if col not in have:
                    conn.execute(
                        text(f"ALTER TABLE graded_check ADD COLUMN {col} TEXT NOT NULL DEFAULT ''")
                    )
            for table in TABLES:  # create_all makes missing tables, not an old table's new index
                for index in table.indexes:
                    index.create(conn, checkfirst=True)
            has_runs = conn.execute(select(GradedRun.id).limit(1)).first() is not None
            has_cells = conn.execute(select(GradedCell.lab).limit(1)).first() is not None
        if has_runs and not has_cells:
            self.rebuild()

    # ------------------------------------------------------------ writing

    def record(self, batch: str, signed: dict[str, Any]) -> int:
        with Session(self.engine) as s:
            run = GradedRun(
                batch=batch, student=signed["student"], lab=signed["lab"],
                status=signed["status"], score=signed["score"], max_score=signed["max_score"],
                started_at=signed.get("started_at", ""),
                recorded_at=datetime.now(UTC).isoformat(timespec="seconds"),
                duration_s=signed.get("duration_s", 0.0),
                result_json=json.dumps(signed, ensure_ascii=False),
            )  # fmt: skip
            s.add(run)
            s.flush()
            for c in signed.get("checks", []):
                s.add(GradedCheck(run_id=run.id, student=run.student, lab=run.lab,
                                  check_id=c["id"], title=c.get("title", c["id"]),
                                  status=c["status"], points=c.get("points", 0),
                                  message=c.get("message", ""), kind=c.get("kind", ""),
                                  hint=c.get("hint", "")))  # fmt: skip
            s.flush()
            self._refresh(s, run, signed)
            s.commit()
            return int(run.id)

    def _refresh(self, s: Session, run: GradedRun, signed: dict[str, Any]) -> None:
        """Update the derived tables for the run just added (the latest of its cell)."""
        key = (GradedRun.student == run.student, GradedRun.lab == run.lab)
        best, attempts, passed = s.exec(
            select(func.max(GradedRun.score), func.count(), func.max(_passed_expr())).where(
                *key
            )  # fmt: skip
        ).one()
        cell = s.get(GradedCell, (run.student, run.lab))
        values = dict(best=best, max_score=run.max_score, attempts=attempts, passed=passed,
                      last_run_id=run.id, last_status=run.status, last_score=run.score,
                      last_at=run.started_at)  # fmt: skip
        if cell is None:
            s.add(GradedCell(student=run.student, lab=run.lab, **values))
        else:
            for k, v in values.items():
                setattr(cell, k, v)
        s.exec(delete(GradedFailure).where(GradedFailure.student == run.student,
                                           GradedFailure.lab == run.lab))  # fmt: skip
        for row in _failures_of(signed, int(run.id)):
            s.add(GradedFailure(**row))
        day = run.started_at[:10]
        done = s.exec(
            update(GradedDay)
            .where(GradedDay.day == day, GradedDay.lab == run.lab)
            .values(
                runs=GradedDay.runs + 1, passed=GradedDay.passed + int(run.status == "pass")
            )  # fmt: skip
        )
        if done.rowcount == 0:
            s.add(GradedDay(day=day, lab=run.lab, runs=1, passed=int(run.status == "pass")))

    def record_many(self, batch: str, docs: Iterable[dict[str, Any]]) -> int:
        """Record many signed results in one transaction (bulk), then rebuild the derived
        tables. For imports and the benchmark; `record` is the everyday path."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        runs = GradedRun.__table__
        checks = GradedCheck.__table__
        n = 0
        with self.engine.begin() as conn:
            chunk: list[dict[str, Any]] = []

            def flush() -> None:
                ids = (
                    conn.execute(
                        runs.insert().returning(runs.c.id, sort_by_parameter_order=True),
                        [
                            dict(
                                batch=batch,
                                student=d["student"],
                                lab=d["lab"],
                                status=d["status"],
                                score=d["score"],
                                max_score=d["max_score"],
                                started_at=d.get("started_at", ""),
                                recorded_at=now,
                                duration_s=d.get("duration_s", 0.0),
                                result_json=json.dumps(d, ensure_ascii=False),
                            )
                            for d in chunk
                        ],
                    )
                    .scalars()
                    .all()
                )
                rows = [
                    dict(
                        run_id=rid,
                        student=d["student"],
                        lab=d["lab"],
                        check_id=c["id"],
                        title=c.get("title", c["id"]),
                        status=c["status"],
                        points=c.get("points", 0),
                        message=c.get("message", ""),
                        kind=c.get("kind", ""),
                        hint=c.get("hint", ""),
                    )  # fmt: skip
                    for rid, d in zip(ids, chunk, strict=True)
                    for c in d.get("checks", [])
                ]
                if rows:
                    conn.execute(checks.insert(), rows)
                chunk.clear()

            for doc in docs:
                chunk.append(doc)
                n += 1
                if len(chunk) >= 500:
                    flush()
            flush()
        self.rebuild()
        return n

    def rebuild(self) -> None:
        """Recompute the derived tables (cells, failures, days) from the runs."""
        runs = GradedRun.__table__
        with self.engine.begin() as conn:
            for t in (GradedCell, GradedFailure, GradedDay):
                conn.execute(delete(t))
            agg = (
                select(
                    runs.c.student,
                    runs.c.lab,
                    func.max(runs.c.score).label("best"),
                    func.count().label("attempts"),
                    func.max(_passed_expr()).label("passed"),
                    func.max(runs.c.id).label("last_id"),
                )  # fmt: skip
                .group_by(runs.c.student, runs.c.lab)
                .subquery()
            )
            conn.execute(
                GradedCell.__table__.insert().from_select(
                    [
                        "student",
                        "lab",
                        "best",
                        "attempts",
                        "passed",
                        "last_run_id",
                        "max_score",
                        "last_status",
                        "last_score",
                        "last_at",
                    ],  # fmt: skip
                    select(
                        agg.c.student,
                        agg.c.lab,
                        agg.c.best,
                        agg.c.attempts,
                        agg.c.passed,
                        agg.c.last_id,
                        runs.c.max_score,
                        runs.c.status,
                        runs.c.score,
                        runs.c.started_at,
                    ).join(runs, runs.c.id == agg.c.last_id),  # fmt: skip
                )
            )
            day = func.substr(runs.c.started_at, 1, 10)
            conn.execute(
                GradedDay.__table__.insert().from_select(
                    ["day", "lab", "runs", "passed"],
                    select(day, runs.c.lab, func.count(), func.sum(_passed_expr())).group_by(
                        day, runs.c.lab
                    ),
                )
            )
            # The failing checks of each latest run, read from its signed result (which
            # carries the kind and hint even where graded_check predates those columns).
            latest = select(GradedCell.__table__.c.last_run_id)
            rows = []
            for rid, raw in conn.execute(
                select(runs.c.id, runs.c.result_json).where(
                    runs.c.id.in_(latest), runs.c.status != "pass"
                )
            ):
                rows.extend(_failures_of(json.loads(raw), rid))
            if rows:
                conn.execute(GradedFailure.__table__.insert(), rows)

    # ------------------------------------------------------------ reading

    def runs(self, student: str | None = None, lab: str | None = None) -> list[GradedRun]:
        with Session(self.engine) as s:
            q = select(GradedRun).order_by(GradedRun.id)
            if student is not None:
                q = q.where(GradedRun.student == student)
            if lab is not None:
                q = q.where(GradedRun.lab == lab)
            return list(s.exec(q))

    def run_summaries(self, student: str | None = None) -> list[tuple[str, str, str, int, int]]:
        """(lab, started_at, status, score, max_score) of runs, oldest first, without
        their result JSON."""
        with Session(self.engine) as s:
            q = select(GradedRun.lab, GradedRun.started_at, GradedRun.status, GradedRun.score,
                       GradedRun.max_score).order_by(GradedRun.id)  # fmt: skip
            if student is not None:
                q = q.where(GradedRun.student == student)
            return [tuple(r) for r in s.exec(q)]

    def students(self) -> list[str]:
        with Session(self.engine) as s:
            return list(s.exec(select(GradedCell.student).distinct().order_by(GradedCell.student)))

    def labs(self) -> list[str]:
        with Session(self.engine) as s:
            return list(s.exec(select(GradedCell.lab).distinct().order_by(GradedCell.lab)))

    def matrix(
        self, student: str | None = None, students: Iterable[str] | None = None
    ) -> dict[tuple[str, str], Cell]:
        """(student, lab) -> best score, attempts, the latest status (of one student, of
        some, or of everyone)."""
        t = GradedCell.__table__
        q = select(t.c.student, t.c.lab, t.c.best, t.c.max_score, t.c.attempts,
                   t.c.last_status, t.c.passed, t.c.last_score, t.c.last_at)  # fmt: skip
        if student is not None:
            q = q.where(t.c.student == student)
        if students is not None:
            q = q.where(t.c.student.in_(list(students)))
        with self.engine.connect() as conn:
            return {
                (r[0], r[1]): Cell(r[2], r[3], r[4], r[5], bool(r[6]), r[7], r[8])
                for r in conn.execute(q)
            }

    def totals(self) -> dict[str, tuple[int, int, int, int]]:
        """student -> (sum of best scores, sum of the labs' points, labs passed, labs)."""
        t = GradedCell.__table__
        q = select(t.c.student, func.sum(t.c.best), func.sum(t.c.max_score),
                   func.sum(t.c.passed), func.count()).group_by(t.c.student)  # fmt: skip
        with self.engine.connect() as conn:
            return {r[0]: (int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in conn.execute(q)}

    def lab_column(self, lab: str) -> dict[str, tuple[float, str]]:
        """student -> (best ratio, status: pass if any run passed, else the latest's)."""
        t = GradedCell.__table__
        q = select(t.c.student, t.c.best, t.c.max_score, t.c.passed, t.c.last_status)
        with self.engine.connect() as conn:
            return {
                st: (best / mx if mx else 0.0, "pass" if passed else last)
                for st, best, mx, passed, last in conn.execute(q.where(t.c.lab == lab))
            }

    def with_status(self, status: str) -> set[str]:
        """Students with at least one lab whose status (pass if any run passed, else the
        latest run's) is ``status``."""
        t = GradedCell.__table__
        cond = (
            t.c.passed == 1 if status == "pass" else (t.c.passed == 0) & (t.c.last_status == status)
        )
        with self.engine.connect() as conn:
            return set(conn.execute(select(t.c.student).where(cond).distinct()).scalars())

    def distribution(self) -> dict[str, list[int]]:
        """lab -> 11 counts of students by best score: 0-9 %, ..., 90-99 %, 100 %."""
        t = GradedCell.__table__
        bucket = case((t.c.max_score <= 0, 0), (t.c.best >= t.c.max_score, 10),
                      else_=(t.c.best * 10) / t.c.max_score)  # fmt: skip
        out: dict[str, list[int]] = {}
        with self.engine.connect() as conn:
            q = select(t.c.lab, bucket, func.count()).group_by(t.c.lab, bucket)
            for lab, b, n in conn.execute(q):
                out.setdefault(lab, [0] * 11)[max(0, min(10, int(b)))] += int(n)
        return out

    def lab_counts(self) -> list[tuple[str, int]]:
        """(lab, students with a graded run of it)."""
        with Session(self.engine) as s:
            q = select(GradedCell.lab, func.count()).group_by(GradedCell.lab)
            return [(lab, int(n)) for lab, n in s.exec(q)]

    def daily(self, lab: str | None = None) -> list[tuple[str, int, int]]:
        """(day, runs, passing runs) for the class, oldest day first."""
        q = select(GradedDay.day, func.sum(GradedDay.runs), func.sum(GradedDay.passed))
        if lab is not None:
            q = q.where(GradedDay.lab == lab)
        with Session(self.engine) as s:
            rows = s.exec(q.group_by(GradedDay.day).order_by(GradedDay.day))
            return [(d, int(n), int(p)) for d, n, p in rows if d]

    def check_history(self, student: str, lab: str) -> dict[str, list[GradedCheck]]:
        """check id -> its verdicts, oldest first, for one student and lab."""
        with Session(self.engine) as s:
            rows = s.exec(
                select(GradedCheck)
                .where(GradedCheck.student == student, GradedCheck.lab == lab)
                .order_by(GradedCheck.run_id)
            )
            out: dict[str, list[GradedCheck]] = defaultdict(list)
            for row in rows:
                out[row.check_id].append(row)
            return dict(out)

    def failures(self, student: str) -> list[GradedFailure]:
        """The failing checks of a student's latest run of each lab."""
        with Session(self.engine) as s:
            q = select(GradedFailure).where(GradedFailure.student == student)
            return list(s.exec(q.order_by(GradedFailure.lab, GradedFailure.id)))

    def failure_groups(self, lab: str | None = None, names: int = 12) -> list[FailureGroup]:
        """The failing checks of every student's latest run, grouped by lab, check and
        failure kind (or message shape), largest first within a check; each group with
        up to ``names`` of its students (all of them with ``names=0``)."""
        t = GradedFailure.__table__
        q = select(t.c.group_id, t.c.lab, t.c.check_id, func.min(t.c.title), t.c.kind,
                   func.min(t.c.shape), func.min(t.c.message), func.min(t.c.hint),
                   func.count())  # fmt: skip
        q = q.group_by(t.c.group_id, t.c.lab, t.c.check_id, t.c.kind)
        if lab is not None:
            q = q.where(t.c.lab == lab)
        with self.engine.connect() as conn:
            groups = {
                r[0]: FailureGroup(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], int(r[8]))
                for r in conn.execute(q)
            }
            rn = func.row_number().over(partition_by=t.c.group_id, order_by=t.c.student)
            sq = select(t.c.group_id, t.c.student, rn.label("rn"))
            if lab is not None:
                sq = sq.where(t.c.lab == lab)
            sub = sq.subquery()
            nq = select(sub.c.group_id, sub.c.student).order_by(sub.c.group_id, sub.c.student)
            if names:
                nq = nq.where(sub.c.rn <= names)
            for gid, student in conn.execute(nq):
                groups[gid].students.append(student)
        return sorted(groups.values(), key=lambda g: (g.lab, g.check_id, -g.count, g.shape))

    def failure_group(self, group_id: str) -> tuple[FailureGroup, list[GradedFailure]] | None:
        """One group, and its failures (one per student)."""
        with Session(self.engine) as s:
            rows = list(s.exec(select(GradedFailure).where(GradedFailure.group_id == group_id)
                               .order_by(GradedFailure.student)))  # fmt: skip
        if not rows:
            return None
        first = rows[0]
        g = FailureGroup(group_id, first.lab, first.check_id, first.title, first.kind,
                         first.shape, min(r.message for r in rows), first.hint, len(rows),
                         [r.student for r in rows])  # fmt: skip
        return g, rows

    def hardest_checks(self, limit: int = 10) -> list[tuple[str, str, str, int, int]]:
        """(lab, check id, title, students failing it on their latest run, students)."""
        f = GradedFailure.__table__
        with self.engine.connect() as conn:
            totals = dict(
                conn.execute(select(GradedCell.lab, func.count()).group_by(GradedCell.lab)).all()
            )
            rows = conn.execute(
                select(
                    f.c.lab,
                    f.c.check_id,
                    func.min(f.c.title),
                    func.count().label("n"),  # a student fails a check once: latest run
                )
                .where(f.c.check_id != RUN_CHECK)
                .group_by(f.c.lab, f.c.check_id)
                .order_by(text("n DESC"), f.c.lab, f.c.check_id)
                .limit(limit)
            ).all()
        return [(lab, cid, title, int(n), int(totals.get(lab, 0))) for lab, cid, title, n in rows]

    # ------------------------------------------------------------ export

    def export_csv(self) -> str:
        """One row per student, a column per lab with the best score, and a total."""
        labs = self.labs()
        cells = self.matrix()
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["student", *labs, "total", "max_total"])
        for student in self.students():
            row, total, max_total = [student], 0, 0
            for lab in labs:
                cell = cells.get((student, lab))
                row.append(str(cell.best) if cell else "")
                total += cell.best if cell else 0
                max_total += cell.max_score if cell else 0
            w.writerow([*row, total, max_total])
        return buf.getvalue()

    def export_gradescope(self) -> str:
        """Gradescope's score upload CSV: one row per student (Name, SID, Email), then a
        column per lab (best score) and Total Score."""
        labs = self.labs()
        cells = self.matrix()
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["Name", "SID", "Email", *labs, "Total Score"])
        for student in self.students():
            scores = [cells[(student, lab)].best if (student, lab) in cells else 0 for lab in labs]
            email = student if "@" in student else ""
            w.writerow([student, student, email, *scores, sum(scores)])
        return buf.getvalue()


def _passed_expr() -> Any:
    return case((GradedRun.__table__.c.status == "pass", 1), else_=0)

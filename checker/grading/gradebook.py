"""The gradebook: every graded run, kept with its full signed result JSON.

SQLModel over a SQLite file in the instructor's state folder by default
(``.lab/instructor/gradebook.db``), or any SQLAlchemy URL (``--db`` or
``LAB_GRADEBOOK_URL``), PostgreSQL included (``postgresql://`` is read as psycopg 3).
One row per run, one row per check of a run (for the dashboard's history and the
checks most students fail), and nothing is ever overwritten: a student's best and
latest come from the runs.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Text
from sqlmodel import Field, Session, SQLModel, create_engine, select

from .signing import instructor_dir


class GradedRun(SQLModel, table=True):
    __tablename__ = "graded_run"

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

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="graded_run.id", index=True)
    student: str = Field(index=True)
    lab: str = Field(index=True)
    check_id: str
    title: str
    status: str
    points: int
    message: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


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


class Gradebook:
    def __init__(self, url: str | None = None) -> None:
        self.url = url or default_url()
        self.engine = create_engine(_sqlalchemy_url(self.url))
        SQLModel.metadata.create_all(
            self.engine, tables=[GradedRun.__table__, GradedCheck.__table__]
        )

    def close(self) -> None:
        self.engine.dispose()

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
                                  message=c.get("message", "")))  # fmt: skip
            s.commit()
            return int(run.id)

    # ------------------------------------------------------------ reading

    def runs(self, student: str | None = None, lab: str | None = None) -> list[GradedRun]:
        with Session(self.engine) as s:
            q = select(GradedRun).order_by(GradedRun.id)
            if student is not None:
                q = q.where(GradedRun.student == student)
            if lab is not None:
                q = q.where(GradedRun.lab == lab)
            return list(s.exec(q))

    def students(self) -> list[str]:
        with Session(self.engine) as s:
            return sorted(set(s.exec(select(GradedRun.student))))

    def labs(self) -> list[str]:
        with Session(self.engine) as s:
            return sorted(set(s.exec(select(GradedRun.lab))))

    def matrix(self, student: str | None = None) -> dict[tuple[str, str], Cell]:
        """(student, lab) -> best score, attempts, the latest status."""
        cells: dict[tuple[str, str], Cell] = {}
        for run in self.runs(student=student):
            key = (run.student, run.lab)
            cell = cells.get(key)
            if cell is None:
                cells[key] = Cell(run.score, run.max_score, 1, run.status, run.status == "pass")
            else:
                cell.best = max(cell.best, run.score)
                cell.max_score = run.max_score
                cell.attempts += 1
                cell.last_status = run.status
                cell.passed = cell.passed or run.status == "pass"
        return cells

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

    def hardest_checks(self, limit: int = 10) -> list[tuple[str, str, str, int, int]]:
        """(lab, check id, title, students failing it on their latest run, students)."""
        latest: dict[tuple[str, str], int] = {}
        for run in self.runs():
            latest[(run.student, run.lab)] = int(run.id)
        with Session(self.engine) as s:
            rows = list(s.exec(select(GradedCheck).where(GradedCheck.run_id.in_(latest.values()))))
        failing: dict[tuple[str, str], set[str]] = defaultdict(set)
        seen: dict[tuple[str, str], set[str]] = defaultdict(set)
        titles: dict[tuple[str, str], str] = {}
        for r in rows:
            key = (r.lab, r.check_id)
            titles[key] = r.title
            seen[key].add(r.student)
            if r.status in ("fail", "error"):
                failing[key].add(r.student)
        ranked = sorted(failing, key=lambda k: (-len(failing[k]), k))
        return [(k[0], k[1], titles[k], len(failing[k]), len(seen[k])) for k in ranked[:limit]]

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

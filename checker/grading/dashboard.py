"""`lab dashboard`: the class at a glance, server-rendered (FastAPI + Jinja2, no JavaScript).

Pages: the class (a students x labs heatmap with sort, filter and pages; runs and pass
rate per day; each lab's score distribution; the checks most students fail), failures
grouped (per lab and check, the students who fail the same way: by failure kind, or by
the shape of the message; a group as CSV), a student (their labs, runs over time, what
fails now with the message and hint they saw) and a student's lab (each check's history).
Charts are SVG drawn here; the look is Pico CSS, vendored in static/ (works offline).
Everything needs a login: the instructor's password (derived from the instructor's key,
printed by `lab dashboard`) sees the class; a student's token (`lab dashboard-token
NAME`) sees only that student's rows, and any other student's page answers 403.
Sessions are an HMAC-signed cookie (HttpOnly, SameSite=Lax, 8 hours).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from . import charts
from .gradebook import Cell, FailureGroup, Gradebook
from .signing import derived

COOKIE = "lab_session"
SESSION_S = 8 * 3600


def instructor_password(key: bytes) -> str:
    raw = derived(key, "dashboard instructor password")
    return base64.b32encode(raw[:10]).decode().lower()


def student_token(key: bytes, student: str) -> str:
    mac = hmac.new(derived(key, "dashboard student token"), student.encode(), hashlib.sha256)
    return f"{student}.{mac.hexdigest()[:24]}"


def _student_of_token(key: bytes, token: str) -> str | None:
    student, _, _ = token.strip().rpartition(".")
    if student and hmac.compare_digest(student_token(key, student), token.strip()):
        return student
    return None


def _cookie(key: bytes, role: str, name: str) -> str:
    body = f"{role}|{name}|{int(time.time()) + SESSION_S}"
    mac = hmac.new(derived(key, "dashboard session"), body.encode(), hashlib.sha256).hexdigest()
    return f"{body}|{mac}"


def _session(key: bytes, value: str | None) -> tuple[str, str] | None:
    if not value or value.count("|") != 3:
        return None
    role, name, expires, mac = value.split("|")
    body = f"{role}|{name}|{expires}"
    good = hmac.new(derived(key, "dashboard session"), body.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac, good) or not expires.isdigit() or int(expires) < time.time():
        return None
    return role, name


HERE = Path(__file__).parent
TEMPLATES = HERE / "templates" / "dashboard"
STATIC = HERE / "static" / "dashboard"
STATUSES = ("pass", "fail", "error", "none")
PER_PAGE = 100
MAX_PER_PAGE = 200


def _course_name() -> str:
    return os.environ.get("LAB_COURSE_NAME", "").strip() or "Backend Lab"


def _lab_meta() -> dict[str, tuple[int, str]]:
    """lab id -> (order, title) from the course's catalog, when the dashboard runs inside a
    course; labs it does not know sort after, by id."""
    try:
        from ..catalog import Catalog

        return {lab.id: (lab.order, lab.title) for lab in Catalog().labs}
    except Exception:  # outside a course (or a broken manifest): ids alone will do
        return {}


def _csv_cell(value: object) -> str:
    """A CSV field a spreadsheet will not run as a formula."""
    s = str(value)
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") else s


def heat_rows(rows: list[str], labs: list[str], cells: dict[tuple[str, str], Cell],
              totals: dict[str, tuple[int, int, int, int]]) -> Markup:  # fmt: skip
    """The heatmap's body rows. Built here rather than in Jinja: at 100 students x 16 labs
    this is 1,600 cells, and a template spends ~100 ms on them where this spends ~5."""
    out = []
    for st in rows:
        e = escape(st)
        u = quote(st, safe="")
        t = totals.get(st, (0, 0, 0, 0))
        parts = [f'<tr data-student="{e}"><th scope="row"><a href="/students/{u}">{e}</a></th>'
                 f'<td class="num total">{t[0]}<span class="of">/{t[1]}</span></td>']  # fmt: skip
        for lb in labs:
            c = cells.get((st, lb))
            le = escape(lb)
            if c is None:
                parts.append(f'<td class="none" data-lab="{le}"><span aria-hidden="true">–</span>'
                             '<span class="vh">not handed in</span></td>')  # fmt: skip
                continue
            h = charts.step(c.ratio)
            dark = " dark" if h >= charts.DARK_FROM else ""
            if c.passed:
                mark = (
                    '<span class="mark" aria-hidden="true">✓</span><span class="vh">, passed</span>'
                )
            elif c.last_status == "error":
                mark = '<span class="mark" aria-hidden="true">!</span><span class="vh">, latest run not judged</span>'
            else:
                mark = ""
            runs = "run" if c.attempts == 1 else "runs"
            # The visible "18×5✓" reads as "18 of 20, 5 runs, passed" (the rest is hidden text).
            parts.append(
                f'<td class="h{h}{dark}" data-lab="{le}"><a href="/students/{u}/labs/'
                f'{quote(lb, safe="")}"><span class="score">{c.best}</span><span class="vh"> of '
                f'{c.max_score},</span> <span class="n"><span aria-hidden="true">×</span>'
                f'{c.attempts}<span class="vh"> {runs}</span></span>{mark}</a></td>'
            )
        parts.append("</tr>")
        out.append("".join(parts))
    return Markup("\n".join(out))


def who_links(g: FailureGroup) -> Markup:
    """A failure group's students as links to their lab (and "and N more")."""
    lab = quote(g.lab, safe="")
    links = ", ".join(
        f'<a href="/students/{quote(st, safe="")}/labs/{lab}">{escape(st)}</a>' for st in g.students
    )
    if g.count > len(g.students):
        links += f' <a href="/failures/{g.id}">and {g.count - len(g.students)} more</a>'
    return Markup(links)


def _qs(params: dict[str, str], **changes: object) -> str:
    """The current page's query string with some parameters changed ("" removes one)."""
    merged = {**params, **{k: str(v) for k, v in changes.items()}}
    return "?" + urlencode({k: v for k, v in merged.items() if v not in ("", "None")})


def create_app(key: bytes, db_url: str | None = None, course: str | None = None) -> FastAPI:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        heat=charts.step, HEAT_DARK=charts.DARK_FROM, course=course or _course_name()
    )
    book = Gradebook(db_url)
    meta = _lab_meta()
    app = FastAPI(title="Backend Lab dashboard", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    password = instructor_password(key)

    def ordered(labs: set[str]) -> list[str]:
        return sorted(labs, key=lambda lab: (meta.get(lab, (10**6, ""))[0], lab))

    def title(lab: str) -> str:
        return meta.get(lab, (0, lab))[1]

    env.globals["lab_title"] = title
    env.globals["qs"] = _qs
    env.globals["who_links"] = who_links

    def render(name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        ctx.setdefault("student_view", ctx.get("role") == "student")
        ctx.setdefault("section", "")
        return HTMLResponse(env.get_template(name + ".html").render(**ctx), status_code=status)

    def who(request: Request) -> tuple[str, str] | None:
        return _session(key, request.cookies.get(COOKIE))

    def denied(name: str, role: str, why: str, status: int = 403) -> HTMLResponse:
        return render("denied", status=status, who=name, role=role, why=why)

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> Response:
        return render("login", who=None, error=None)

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        secret = (form.get("secret") or [""])[0]
        if secret and hmac.compare_digest(secret.encode(), password.encode()):
            role, name = "instructor", "instructor"
        elif (student := _student_of_token(key, secret)) is not None:
            role, name = "student", student
        else:
            return render("login", status=401, who=None,
                          error="That is neither the instructor password nor a student token.")  # fmt: skip
        resp = RedirectResponse("/", status_code=303)
        resp.set_cookie(COOKIE, _cookie(key, role, name), max_age=SESSION_S, httponly=True,
                        samesite="lax")  # fmt: skip
        return resp

    @app.get("/logout")
    def logout() -> Response:
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(COOKIE)
        return resp

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request) -> Response:
        s = who(request)
        if s is None:
            return RedirectResponse("/login", status_code=303)
        role, name = s
        if role != "instructor":
            return student_page(name, role, name)
        p = request.query_params
        totals = book.totals()
        students = sorted(totals)
        dist = book.distribution()
        all_labs = ordered(set(dist))
        q = p.get("q", "").strip()
        lab = p.get("lab", "") if p.get("lab", "") in all_labs else ""
        status = p.get("status", "") if p.get("status", "") in STATUSES else ""
        sort = p.get("sort", "student")
        desc = p.get("desc") == "1"
        rows = [st for st in students if q.lower() in st.lower()] if q else students
        if status:
            if lab:
                column = book.lab_column(lab)
                rows = [st for st in rows if column.get(st, (0, "none"))[1] == status]
            elif status == "none":
                rows = [st for st in rows if totals[st][3] < len(all_labs)]
            else:
                having = book.with_status(status)
                rows = [st for st in rows if st in having]
        if sort == "total":
            rows.sort()  # ties stay in name order: reverse=True keeps a sort stable
            rows.sort(key=lambda st: totals[st][0], reverse=desc)
        elif sort in all_labs:
            column = book.lab_column(sort)
            rows.sort()
            rows.sort(key=lambda st: column.get(st, (-1.0, ""))[0], reverse=desc)
        else:
            sort = "student"
            rows.sort(reverse=desc)
        try:
            per = max(10, min(MAX_PER_PAGE, int(p.get("per", PER_PAGE))))
            page = max(1, int(p.get("page", 1)))
        except ValueError:
            per, page = PER_PAGE, 1
        pages = max(1, -(-len(rows) // per))
        page = min(page, pages)
        shown = rows[(page - 1) * per : page * per]
        labs = [lab] if lab else all_labs
        cells = book.matrix(students=shown) if shown else {}
        n_cells = sum(sum(c) for c in dist.values())
        passed = sum(t[2] for t in totals.values())
        days = book.daily()
        params = {
            k: v
            for k, v in (
                ("q", q), ("lab", lab), ("status", status), ("sort", sort),
                ("desc", "1" if desc else ""), ("per", str(per) if per != PER_PAGE else ""),
            )
            if v
        }  # fmt: skip
        return render(
            "index", who=name, role=role, section="class", cells=cells, students=students,
            all_labs=all_labs, labs=labs, rows=shown, n_rows=len(rows), page=page, pages=pages,
            per=per, q=q, lab=lab, state=status, sort=sort, desc=desc, params=params,
            totals=totals, n_cells=n_cells, body=heat_rows(shown, labs, cells, totals), passed=passed,
            runs=sum(n for _, n, _ in days), daily=charts.daily(days),
            hists=[(lb, charts.histogram(lb, dist[lb])) for lb in all_labs],
            hardest=book.hardest_checks(),
        )  # fmt: skip

    def student_page(student: str, role: str, name: str) -> HTMLResponse:
        cells = book.matrix(student=student)
        if not cells:
            return render("student", who=name, role=role, section="student", student=student,
                          labs=[], cells={}, failures={}, daily=None, runs=0)  # fmt: skip
        per_day: dict[str, list[int]] = {}
        runs = book.run_summaries(student=student)
        for _lab, started, st, _score, _max in runs:
            d = per_day.setdefault(started[:10], [0, 0])
            d[0] += 1
            d[1] += int(st == "pass")
        failures: dict[str, list[Any]] = {}
        for f in book.failures(student):
            failures.setdefault(f.lab, []).append(f)
        return render(
            "student", who=name, role=role, section="student", student=student,
            labs=ordered({k[1] for k in cells}), cells={k[1]: v for k, v in cells.items()},
            failures=failures, runs=len(runs),
            daily=charts.daily([(d, n, p) for d, (n, p) in sorted(per_day.items()) if d]),
        )  # fmt: skip

    @app.get("/students/{student}", response_class=HTMLResponse)
    def student(student: str, request: Request) -> Response:
        s = who(request)
        if s is None:
            return RedirectResponse("/login", status_code=303)
        role, name = s
        if role != "instructor" and name != student:
            return denied(name, role, "You can see your own results only.")
        return student_page(student, role, name)

    @app.get("/students/{student}/labs/{lab}", response_class=HTMLResponse)
    def detail(student: str, lab: str, request: Request) -> Response:
        s = who(request)
        if s is None:
            return RedirectResponse("/login", status_code=303)
        role, name = s
        if role != "instructor" and name != student:
            return denied(name, role, "You can see your own results only.")
        runs = book.run_summaries(student=student)
        runs = [r for r in runs if r[0] == lab]
        if not runs:
            return denied(name, role, "No graded run of that lab.", status=404)
        return render("detail", who=name, role=role, section="student", student=student,
                      lab=lab, runs=runs, best=max(r[3] for r in runs), max_score=runs[-1][4],
                      history=book.check_history(student, lab))  # fmt: skip

    def instructor_only(request: Request) -> tuple[str, str] | Response:
        s = who(request)
        if s is None:
            return RedirectResponse("/login", status_code=303)
        if s[0] != "instructor":
            return denied(s[1], s[0], "Failure groups are for the instructor.")
        return s

    @app.get("/failures", response_class=HTMLResponse)
    def failures(request: Request) -> Response:
        s = instructor_only(request)
        if isinstance(s, Response):
            return s
        all_labs = ordered(set(book.labs()))
        lab = request.query_params.get("lab", "")
        lab = lab if lab in all_labs else ""
        groups = book.failure_groups(lab=lab or None, names=12 if lab else 5)
        by_check: dict[tuple[str, str], list[Any]] = {}
        for g in groups:
            by_check.setdefault((g.lab, g.check_id), []).append(g)
        keys = sorted(by_check, key=lambda k: (all_labs.index(k[0]) if k[0] in all_labs else 0,
                                               -sum(g.count for g in by_check[k]), k[1]))  # fmt: skip
        return render("failures", who=s[1], role=s[0], section="failures", all_labs=all_labs,
                      lab=lab, by_check=by_check, keys=keys,
                      students=dict(book.lab_counts()))  # fmt: skip

    @app.get("/failures/{group_id}.csv")
    def failure_csv(group_id: str, request: Request) -> Response:
        s = instructor_only(request)
        if isinstance(s, Response):
            return s
        found = book.failure_group(group_id)
        if found is None:
            return denied(s[1], s[0], "No such failure group (the gradebook changed?).", 404)
        g, rows = found
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["student", "lab", "check", "kind", "status", "message"])
        for r in rows:
            w.writerow([_csv_cell(v) for v in (r.student, r.lab, r.check_id, r.kind, r.status,
                                                r.message)])  # fmt: skip
        fname = f"failures-{g.lab}-{g.check_id}-{g.kind or g.id}.csv".replace("(", "").replace(
            ")", ""
        )
        return Response(buf.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"content-disposition": f'attachment; filename="{fname}"'})  # fmt: skip

    @app.get("/failures/{group_id}", response_class=HTMLResponse)
    def failure_group(group_id: str, request: Request) -> Response:
        s = instructor_only(request)
        if isinstance(s, Response):
            return s
        found = book.failure_group(group_id)
        if found is None:
            return denied(s[1], s[0], "No such failure group (the gradebook changed?).", 404)
        g, rows = found
        return render("group", who=s[1], role=s[0], section="failures", g=g, rows=rows)

    return app

"""`lab dashboard`: the class at a glance, server-rendered (FastAPI + Jinja2, no JS build).

Pages: students x labs (best score, attempts), a student's lab with each check's history
(one verdict per graded run), and the checks most students fail on their latest run.
Everything needs a login: the instructor's password (derived from the instructor's key,
printed by `lab dashboard`) sees the class; a student's token (`lab dashboard-token
NAME`) sees only that student's rows, and any other student's page answers 403.
Sessions are an HMAC-signed cookie (HttpOnly, SameSite=Lax, 8 hours).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import DictLoader, Environment, select_autoescape

from .gradebook import Gradebook
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


BASE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{% block title %}{% endblock %} · Backend Lab</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#222}
h1{font-size:1.4rem} table{border-collapse:collapse;margin:1rem 0} th,td{padding:.35rem .7rem;
border-bottom:1px solid #ddd;text-align:left} td.num{text-align:right} .pass{color:#137333}
.fail{color:#b06000} .error{color:#c5221f} .muted{color:#777} nav{margin-bottom:1rem}
.v{display:inline-block;min-width:1.2em;text-align:center;border-radius:3px;margin-right:2px}
.v.pass{background:#e6f4ea}.v.fail{background:#fef7e0}.v.error{background:#fce8e6}
form input{padding:.3rem;margin:.2rem 0} .msg{max-width:40rem;font-size:.9em}
</style></head><body>
<nav>{% if who %}<span class="muted">Signed in as <b id="who">{{ who }}</b></span> ·
<a href="/">{{ "your grades" if student_view else "class" }}</a> · <a href="/logout">sign out</a>{% endif %}</nav>
{% block body %}{% endblock %}</body></html>"""

LOGIN = """{% extends "base" %}{% block title %}Sign in{% endblock %}{% block body %}
<h1>Backend Lab dashboard</h1>
{% if error %}<p class="error" id="error">{{ error }}</p>{% endif %}
<form method="post" action="/login">
<label>Instructor password or student token<br>
<input name="secret" type="password" autocomplete="current-password" size="40" autofocus></label><br>
<button type="submit">Sign in</button></form>{% endblock %}"""

INDEX = """{% extends "base" %}{% block title %}Class{% endblock %}{% block body %}
<h1>{% if role == "instructor" %}The class{% else %}Your grades{% endif %}</h1>
{% if not students %}<p>No graded runs yet: run <code>lab grade SUBMISSIONS</code>.</p>{% else %}
<table id="matrix"><thead><tr><th>student</th>{% for lab in labs %}<th>{{ lab }}</th>{% endfor %}
</tr></thead><tbody>
{% for s in students %}<tr data-student="{{ s }}"><td>{{ s }}</td>
{% for lab in labs %}{% set c = cells.get((s, lab)) %}<td class="num">{% if c %}
<a href="/students/{{ s | urlencode }}/labs/{{ lab }}" class="{{ 'pass' if c.passed else c.last_status }}">
{{ c.best }}/{{ c.max_score }}</a> <span class="muted">· {{ c.attempts }} attempt{{ 's' if c.attempts != 1 }}</span>
{% else %}<span class="muted">–</span>{% endif %}</td>{% endfor %}</tr>{% endfor %}
</tbody></table>{% endif %}
{% if role == "instructor" and hardest %}<h2>Checks most students fail</h2>
<table id="hardest"><thead><tr><th>lab</th><th>check</th><th>failing</th></tr></thead><tbody>
{% for lab, cid, title, failing, total in hardest %}<tr><td>{{ lab }}</td>
<td>{{ title }} <span class="muted">({{ cid }})</span></td>
<td class="num">{{ failing }} of {{ total }}</td></tr>{% endfor %}</tbody></table>{% endif %}
{% endblock %}"""

DETAIL = """{% extends "base" %}{% block title %}{{ student }} · {{ lab }}{% endblock %}{% block body %}
<h1>{{ student }} · {{ lab }}</h1>
<p>{{ runs|length }} graded run{{ 's' if runs|length != 1 }}; best {{ best }}/{{ max_score }}.</p>
<table id="history"><thead><tr><th>check</th><th>points</th><th>history (oldest first)</th>
<th>latest message</th></tr></thead><tbody>
{% for cid, rows in history.items() %}<tr data-check="{{ cid }}"><td>{{ rows[-1].title }}</td>
<td class="num">{{ rows[-1].points }}</td><td>{% for r in rows %}<span class="v {{ r.status }}"
title="{{ r.status }}">{{ {'pass': '✔', 'fail': '✘'}.get(r.status, '!') }}</span>{% endfor %}</td>
<td class="msg">{{ rows[-1].message if rows[-1].status != 'pass' else '' }}</td></tr>{% endfor %}
</tbody></table>{% endblock %}"""

DENIED = """{% extends "base" %}{% block title %}Not allowed{% endblock %}{% block body %}
<h1 id="denied">Not allowed</h1><p>{{ why }}</p>{% endblock %}"""


def create_app(key: bytes, db_url: str | None = None) -> FastAPI:
    env = Environment(
        loader=DictLoader(
            {"base": BASE, "login": LOGIN, "index": INDEX, "detail": DETAIL, "denied": DENIED}
        ),  # fmt: skip
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    book = Gradebook(db_url)
    app = FastAPI(title="Backend Lab dashboard", docs_url=None, redoc_url=None, openapi_url=None)
    password = instructor_password(key)

    def render(name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        ctx.setdefault("student_view", ctx.get("who") not in (None, "instructor"))
        return HTMLResponse(env.get_template(name).render(**ctx), status_code=status)

    def who(request: Request) -> tuple[str, str] | None:
        return _session(key, request.cookies.get(COOKIE))

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
        mine = None if role == "instructor" else name
        cells = book.matrix(student=mine)
        students = sorted({k[0] for k in cells})
        labs = sorted({k[1] for k in cells})
        hardest = book.hardest_checks() if role == "instructor" else []
        return render("index", who=name, role=role, students=students, labs=labs, cells=cells,
                      hardest=hardest)  # fmt: skip

    @app.get("/students/{student}/labs/{lab}", response_class=HTMLResponse)
    def detail(student: str, lab: str, request: Request) -> Response:
        s = who(request)
        if s is None:
            return RedirectResponse("/login", status_code=303)
        role, name = s
        if role != "instructor" and name != student:
            return render("denied", status=403, who=name,
                          why="You can see your own results only.")  # fmt: skip
        runs = book.runs(student=student, lab=lab)
        if not runs:
            return render("denied", status=404, who=name, why="No graded run of that lab.")
        return render("detail", who=name, student=student, lab=lab, runs=runs,
                      best=max(r.score for r in runs), max_score=runs[-1].max_score,
                      history=book.check_history(student, lab))  # fmt: skip

    return app

"""`lab dashboard` in a real headless Chromium (Debian's, driven by Playwright).

The gradebook holds signed results with known numbers: four students of the crud lab
(ada's starter then her solution, bob's starter, and cy and dee with the same known-wrong
scenario, their failing check naming the kind ``wrong-status``) and ada's auth starter.
The tests sign in as the instructor and as students, assert the numbers each page shows
(heatmap, totals, charts' text, failure groups and their CSV, a student's own view), scan
every page with axe-core (vendored in tests/vendor/axe-core, injected into the page) for
serious or critical violations, save screenshots and the axe results in test-artifacts/
(gitignored), and prove that anonymous and cross-student access are refused.
Never `playwright install`: the browser is Debian's chromium (see ``chromium()``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from checker.catalog import Catalog
from checker.grading.dashboard import instructor_password, student_token
from checker.grading.gradebook import Gradebook, message_shape
from checker.grading.sample import variants
from checker.grading.signing import load_dashboard_secret, load_key, sign
from checker.results import CheckResult, RunResult
from checker.services.base import free_port

from .conftest import ROOT

ARTIFACTS = ROOT / "test-artifacts"
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
LAPTOP = {"width": 1366, "height": 768}


def chromium() -> str:
    """The browser the tests drive: Debian's chromium (``LAB_CHROMIUM`` may point at
    another build). Never a Playwright download."""
    path = os.environ.get("LAB_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(
            f"{path} is missing: run `bash .ci/setup-tests` (README line 2 does), or apt-get install -y chromium"
        )
    return path


def _result(lab, student: str, verdicts: dict[str, str], day: str, kinds=None) -> dict:
    run = RunResult(
        lab=lab.id, target=f"{student}:{lab.dirname}", started_at=f"{day}T10:00:00+00:00"
    )
    for c in lab.checks:
        status = verdicts[c.id]
        kind, msg = (kinds or {}).get(c.id, ("", f"expected what {c.title.lower()} says"))
        if status == "pass":
            kind, msg = "", ""
        hint = f"Hint about {c.id}." if status != "pass" else ""
        run.checks.append(CheckResult(c.id, c.title, status, c.points, msg, hint, kind=kind))
    run.settle()
    return {**run.to_dict(), "student": student}


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    base = tmp_path_factory.mktemp("dashboard")
    os.environ["LAB_INSTRUCTOR_HOME"] = str(base / "instructor")
    key = load_key()
    catalog = Catalog(ROOT)
    crud, auth = catalog.get("crud"), catalog.get("auth")
    kinds = {name: v for name, v, _ in variants(crud)}
    wrong = next(n for n in kinds if n.startswith("wrong-"))
    wrong_checks = sorted(c for c, s in kinds[wrong].items() if s != "pass")
    auth_starter = next(v for name, v, _ in variants(auth) if name == "starter")
    url = f"sqlite:///{base / 'gradebook.db'}"
    book = Gradebook(url)
    d1, d2 = "2026-01-01", "2026-01-02"
    for doc in (
        _result(crud, "ada", kinds["starter"], d1),
        _result(auth, "ada", auth_starter, d1),
        _result(crud, "bob", kinds["starter"], d1),
        _result(crud, "ada", kinds["solution"], d2),
        _result(crud, "cy", kinds[wrong], d2,
                dict.fromkeys(wrong_checks, ("wrong-status", "expected 409 Conflict, got 400"))),
        _result(crud, "dee", kinds[wrong], d2,
                dict.fromkeys(wrong_checks, ("wrong-status", "expected 409 Conflict, got 500"))),
    ):  # fmt: skip
        book.record("b1", sign(doc, key))
    book.close()
    port = free_port()
    with open(base / "dashboard.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "checker", "dashboard", "--port", str(port), "--db", url],
            cwd=ROOT, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(base_url + "/login", timeout=1)
            break
        except httpx.HTTPError:
            assert proc.poll() is None and time.monotonic() < deadline, (
                base / "dashboard.log"
            ).read_text()
            time.sleep(0.2)
    # The dashboard's secret is its own, never the signing key.
    secret = load_dashboard_secret()
    assert secret != key
    yield {"url": base_url, "key": key, "secret": secret, "crud": crud, "kinds": kinds,
           "wrong": wrong, "wrong_checks": wrong_checks}  # fmt: skip
    proc.terminate()
    proc.wait(timeout=10)
    os.environ.pop("LAB_INSTRUCTOR_HOME", None)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    exe = chromium()
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            str(profile), executable_path=exe, headless=True, args=ARGS, viewport=LAPTOP
        )
        yield ctx
        ctx.close()
    shutil.rmtree(profile, ignore_errors=True)


def _sign_in(browser, url: str, secret: str):
    browser.clear_cookies()
    page = browser.new_page()
    page.goto(url + "/login")
    page.fill("input[name=secret]", secret)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)


def _axe(page, name: str) -> list[dict]:
    """axe-core's violations on the page that are serious or critical (all of them are
    written to test-artifacts/axe-NAME.json)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"axe-{name}.json").write_text(
        json.dumps(
            {"url": page.url, "violations": result["violations"], "passes": len(result["passes"])},
            indent=2,
        )  # fmt: skip
    )
    assert result["passes"], "axe ran no rule: the scan did not happen"
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }  # fmt: skip
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_message_shapes_group_values_out():
    assert message_shape("expected 409 Conflict, got 400") == message_shape(
        "expected 201 Conflict, got 500"
    )
    assert (
        message_shape("GET /books/3f2a9c01b7 read 'x' at 1.5 s") == "GET /books/ID read '…' at N s"
    )
    assert message_shape("no Location header") != message_shape("no ETag header")


def test_anonymous_and_forged_sessions_are_refused(dashboard):
    url = dashboard["url"]
    for path in ("/", "/students/ada", "/students/ada/labs/crud", "/failures", "/failures/x.csv"):
        r = httpx.get(url + path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login", path
    forged = {"lab_session": "instructor|instructor|9999999999|" + "0" * 64}
    r = httpx.get(url + "/", cookies=forged, follow_redirects=False)
    assert r.status_code == 303
    r = httpx.post(url + "/login", data={"secret": "ada.000000000000000000000000"})
    assert r.status_code == 401 and "ada" not in r.text
    # the stylesheets are served by the dashboard itself: nothing comes from a CDN
    css = httpx.get(url + "/static/pico.fluid.classless.min.css")
    assert css.status_code == 200 and "Pico CSS" in css.text[:400]


def test_instructor_sees_the_class_and_drills_down(dashboard, browser):
    page = browser.new_page()
    page.goto(dashboard["url"] + "/")
    assert page.url.endswith("/login")
    assert page.locator("#matrix").count() == 0
    page.fill("input[name=secret]", "not the password")
    page.click("button[type=submit]")
    assert "neither the instructor password" in page.locator("#error").inner_text()
    assert not _axe(page, "login")
    page.fill("input[name=secret]", instructor_password(dashboard["secret"]))
    page.click("button[type=submit]")
    page.wait_for_selector("#matrix")
    assert page.inner_text("header").startswith("Backend Lab")
    # the summary
    assert page.inner_text("#n-students") == "4"
    assert page.inner_text("#n-labs") == "2"
    assert page.inner_text("#n-runs") == "6"
    assert page.inner_text("#pass-rate") == "20 %"  # 1 of 5 started labs
    # the heatmap: a row per student, the course's lab order, score and runs per cell
    rows = page.locator("#matrix tbody tr")
    assert [r.get_attribute("data-student") for r in rows.all()] == ["ada", "bob", "cy", "dee"]
    heads = page.locator("#matrix thead th").all_inner_texts()
    assert [h.strip(" ▲▼") for h in heads] == ["student", "total", "crud", "auth"]
    ada = page.locator("tr[data-student=ada] td[data-lab=crud] a")
    assert " ".join(ada.text_content().split()) == "20 of 20, ×2 runs✓, passed"
    names = page.locator("tr[data-student=ada] td[data-lab=crud] a [aria-hidden=true]")
    assert names.all_text_contents() == ["×", "✓"]  # what a screen reader skips
    assert "h10" in page.locator("tr[data-student=ada] td[data-lab=crud]").get_attribute("class")
    assert page.locator("tr[data-student=bob] td[data-lab=crud] .score").inner_text() == "1"
    assert page.locator("tr[data-student=bob] td[data-lab=auth]").text_content() == "–not handed in"
    assert page.locator("tr[data-student=cy] td.total").inner_text() == "18/20"
    # the charts say their numbers in words
    daily = page.locator("svg.daily").get_attribute("aria-label")
    assert "from 2026-01-01 to 2026-01-02: 6 runs, 1 passed (17%)" in daily
    crud_hist = page.locator("#distributions figure[data-lab=crud] svg").get_attribute("aria-label")
    assert crud_hist.startswith("crud: best scores of 4 students; 1 with full marks, 1 under 10 %")
    # the checks most students fail: the known-wrong scenario's check, by bob, cy and dee
    top = page.locator("#hardest tbody tr").first.inner_text()
    assert "3 of 4" in top
    assert not _axe(page, "class")
    fetched = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    assert fetched and all(u.startswith(dashboard["url"]) for u in fetched), fetched  # no CDN
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
        "the page scrolls sideways on a laptop screen"
    )
    _shot(page, "instructor")
    # keyboard: the first Tab reaches "Skip to content"; the filter works from the keyboard
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.focus("input[name=q]")
    page.keyboard.type("b")
    page.keyboard.press("Enter")
    page.wait_for_url("**/?q=b*")
    assert [r.get_attribute("data-student") for r in rows.all()] == ["bob"]
    # filter by lab and status, sort by total
    page.goto(dashboard["url"] + "/?lab=auth&status=none")
    assert [r.get_attribute("data-student") for r in rows.all()] == ["bob", "cy", "dee"]
    assert page.locator("#matrix thead th").count() == 3  # student, total, auth
    page.goto(dashboard["url"] + "/?status=none")  # any lab not handed in
    assert [r.get_attribute("data-student") for r in rows.all()] == ["bob", "cy", "dee"]
    page.goto(dashboard["url"] + "/?status=fail")  # any lab failing (ada's auth)
    assert [r.get_attribute("data-student") for r in rows.all()] == ["ada", "bob", "cy", "dee"]
    page.goto(dashboard["url"] + "/?lab=crud&status=pass")
    assert [r.get_attribute("data-student") for r in rows.all()] == ["ada"]
    page.goto(dashboard["url"] + "/?sort=total&desc=1")
    assert [r.get_attribute("data-student") for r in rows.all()] == ["ada", "cy", "dee", "bob"]
    page.goto(dashboard["url"] + "/?sort=crud")
    assert [r.get_attribute("data-student") for r in rows.all()] == ["bob", "cy", "dee", "ada"]
    # drill down: a cell links to that student's lab
    page.goto(dashboard["url"] + "/")
    page.click("tr[data-student=ada] td[data-lab=crud] a")
    page.wait_for_selector("#history")
    assert page.inner_text("#summary") == "2 graded runs; best 20/20."
    row = page.locator("tr[data-check=create_returns_201]")
    assert [v.get_attribute("title") for v in row.locator(".v").all()] == ["fail", "pass"]
    assert not _axe(page, "history")
    _shot(page, "history")
    page.goto(dashboard["url"] + "/students/bob")
    assert page.inner_text("h1") == "bob"
    assert not _axe(page, "student-as-instructor")
    page.close()


def test_failures_grouped_by_kind_and_exported(dashboard, browser):
    page = _sign_in(browser, dashboard["url"], instructor_password(dashboard["secret"]))
    page.goto(dashboard["url"] + "/failures?lab=crud")
    check = dashboard["wrong_checks"][0]
    section = page.locator(f"section.check[data-check={check}]")
    assert "3 of 4 students" in section.locator("h3").inner_text()
    groups = section.locator("tr.group").all()
    # cy and dee fail the same way (the kind their check named); bob's message differs
    assert [(g.get_attribute("data-kind"), g.locator(".count").inner_text()) for g in groups] == [
        ("wrong-status", "2"),
        ("", "1"),
    ]
    assert groups[0].locator(".who").inner_text() == "cy, dee"
    assert "expected 409 Conflict, got 400" in groups[0].inner_text()  # one representative
    assert groups[1].locator(".who").inner_text() == "bob"
    assert not _axe(page, "failures")
    _shot(page, "failures")
    gid = groups[0].get_attribute("data-group")
    csv_text = page.request.get(f"{dashboard['url']}/failures/{gid}.csv").text()
    rows = list(csv.reader(io.StringIO(csv_text)))
    assert rows[0] == ["student", "lab", "check", "kind", "status", "message"]
    assert [(r[0], r[3]) for r in rows[1:]] == [("cy", "wrong-status"), ("dee", "wrong-status")]
    page.goto(f"{dashboard['url']}/failures/{gid}")
    assert "2 students fail this check of crud the same way" in page.inner_text("#group-summary")
    assert not _axe(page, "group")
    page.close()


def test_student_sees_only_their_own(dashboard, browser):
    url = dashboard["url"]
    page = _sign_in(browser, url, student_token(dashboard["secret"], "cy"))
    page.wait_for_selector("#labs")
    assert page.inner_text("#who") == "cy"
    assert page.inner_text("h1") == "Your labs"
    assert [r.get_attribute("data-lab") for r in page.locator("#labs tbody tr").all()] == ["crud"]
    assert "18/20" in page.inner_text("#labs")
    check = dashboard["wrong_checks"][0]
    failing = page.locator(f"article.failing li[data-check={check}]")
    text = failing.inner_text()
    assert "wrong-status" in text and "expected 409 Conflict, got 400" in text
    assert f"Hint about {check}." in text  # the hint they saw
    body = page.inner_text("body")
    assert all(other not in body for other in ("ada", "bob", "dee", "got 500"))
    assert page.locator("svg.daily").count() == 1
    assert not _axe(page, "student")
    _shot(page, "student")
    for path in ("/students/ada", "/students/ada/labs/crud", "/failures", "/failures/x.csv"):
        response = page.goto(url + path)
        assert response.status == 403, path
        assert page.inner_text("#denied") == "Not allowed"
        assert "20/20" not in page.inner_text("body")
    response = page.goto(url + "/students/cy/labs/crud")
    assert response.status == 200 and "cy · crud" in page.inner_text("h1")
    row = page.locator(f"tr[data-check={check}]").inner_text()
    assert "expected 409 Conflict, got 400" in row and f"Hint about {check}." in row
    assert not _axe(page, "student-lab")
    page.close()
    browser.clear_cookies()


def _derived(book: Gradebook) -> dict[str, list]:
    from sqlalchemy import text

    with book.engine.connect() as conn:
        return {
            "cells": conn.execute(text("SELECT * FROM graded_cell ORDER BY student, lab")).all(),
            "days": conn.execute(text("SELECT * FROM graded_day ORDER BY day, lab")).all(),
            "failures": conn.execute(
                text(
                    "SELECT student, lab, run_id, check_id, kind, group_id, message, hint "
                    "FROM graded_failure ORDER BY student, lab, check_id"
                )  # fmt: skip
            ).all(),
        }


def _generated(students: int, labs: int, attempts: int) -> list[dict]:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bench_dashboard", ROOT / "benchmarks" / "dashboard.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return list(bench.generate(students, labs, attempts))


def test_recording_one_by_one_keeps_what_a_rebuild_computes(tmp_path: Path):
    """The derived tables `record` updates run by run equal a rebuild from the runs, and
    `record_many` (bulk) gives the same gradebook."""
    docs = _generated(12, 3, 4)
    assert any(d["status"] == "error" for d in docs) or len(docs) > 100
    one = Gradebook(f"sqlite:///{tmp_path / 'one.db'}")
    for d in docs:
        one.record("b", sign(d, b"k" * 32))
    incremental = _derived(one)
    assert incremental["failures"] and incremental["cells"] and incremental["days"]
    one.rebuild()
    assert _derived(one) == incremental
    bulk = Gradebook(f"sqlite:///{tmp_path / 'bulk.db'}")
    assert bulk.record_many("b", (sign(d, b"k" * 32) for d in docs)) == len(docs)
    assert _derived(bulk) == incremental
    assert sum(n for _, n, _ in bulk.daily()) == len(docs)
    # what the pages read agrees between the two (and runs in this process: warnings fail)
    lab = docs[0]["lab"]
    for book in (one, bulk):
        cells = book.matrix()
        assert sum(c.attempts for c in cells.values()) == len(docs)
        assert sum(sum(v) for v in book.distribution().values()) == len(cells)
        assert {s: t[3] for s, t in book.totals().items()} == {
            s: sum(1 for k in cells if k[0] == s) for s in {k[0] for k in cells}
        }
        assert set(book.lab_column(lab)) == {s for s, lb in cells if lb == lab}
        assert book.with_status("pass") == {s for (s, _), c in cells.items() if c.passed}
        groups = book.failure_groups(names=0)
        assert sum(g.count for g in groups) == len(incremental["failures"])
        assert all(len(g.students) == g.count for g in groups)
        assert book.failure_group(groups[0].id)[0].count == groups[0].count
        assert book.hardest_checks(limit=3)
    one.close()
    bulk.close()


def test_an_older_gradebook_is_brought_up_to_date(tmp_path: Path):
    """A gradebook made before the derived tables and the kind/hint columns: opening it
    adds the columns and fills the tables from its runs."""
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path / 'old.db'}"
    book = Gradebook(url)
    for d in _generated(3, 2, 2):
        book.record("b", sign(d, b"k" * 32))
    before = _derived(book)
    with book.engine.begin() as conn:
        for table in ("graded_cell", "graded_failure", "graded_day"):
            conn.execute(text(f"DROP TABLE {table}"))
        conn.execute(text("ALTER TABLE graded_check DROP COLUMN kind"))
        conn.execute(text("ALTER TABLE graded_check DROP COLUMN hint"))
        conn.execute(text("DROP INDEX ix_graded_run_student_lab"))
    book.close()
    book = Gradebook(url)
    after = _derived(book)
    assert after["cells"] == before["cells"] and after["days"] == before["days"]
    assert after["failures"] == before["failures"]  # kinds and hints from the signed results
    with book.engine.connect() as conn:
        indexes = {r[1] for r in conn.execute(text("PRAGMA index_list('graded_run')"))}
    assert "ix_graded_run_student_lab" in indexes
    book.close()

"""`lab dashboard` in a real headless Chromium (Debian's, driven by Playwright).

The gradebook holds signed results of three students (one with two attempts), with the
verdicts the generated class gives (starter, solution, a known-wrong scenario). The
tests sign in as the instructor and as a student, assert what the pages show, save
screenshots in test-artifacts/, and prove that anonymous and cross-student access are
refused. Never `playwright install`: the browser is /usr/bin/chromium.
"""

from __future__ import annotations

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
from checker.grading.gradebook import Gradebook
from checker.grading.sample import variants
from checker.grading.signing import load_dashboard_secret, load_key, sign
from checker.results import CheckResult, RunResult
from checker.services.base import free_port

from .conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def _result(lab, student: str, verdicts: dict[str, str]) -> dict:
    run = RunResult(
        lab=lab.id, target=f"{student}:{lab.dirname}", started_at="2026-01-01T00:00:00+00:00"
    )
    for c in lab.checks:
        status = verdicts[c.id]
        msg = "" if status == "pass" else f"expected what {c.title.lower()} says"
        run.checks.append(CheckResult(c.id, c.title, status, c.points, msg))
    run.settle()
    return {**run.to_dict(), "student": student}


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    base = tmp_path_factory.mktemp("dashboard")
    os.environ["LAB_INSTRUCTOR_HOME"] = str(base / "instructor")
    key = load_key()
    lab = Catalog(ROOT).get("crud")
    kinds = {name: v for name, v, _ in variants(lab)}
    wrong = next(n for n in kinds if n.startswith("wrong-"))
    url = f"sqlite:///{base / 'gradebook.db'}"
    book = Gradebook(url)
    for student, kind in (
        ("ada", "starter"),
        ("ada", "solution"),
        ("bob", "starter"),
        ("cy", wrong),
    ):
        book.record("b1", sign(_result(lab, student, kinds[kind]), key))
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
    yield {"url": base_url, "key": key, "secret": secret, "lab": lab, "kinds": kinds,
           "wrong": wrong}  # fmt: skip
    proc.terminate()
    proc.wait(timeout=10)
    os.environ.pop("LAB_INSTRUCTOR_HOME", None)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=ARGS
        )
        yield ctx
        ctx.close()
    shutil.rmtree(profile, ignore_errors=True)


def test_anonymous_and_forged_sessions_are_refused(dashboard):
    url = dashboard["url"]
    for path in ("/", "/students/ada/labs/crud"):
        r = httpx.get(url + path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login"
    forged = {"lab_session": "instructor|instructor|9999999999|" + "0" * 64}
    r = httpx.get(url + "/", cookies=forged, follow_redirects=False)
    assert r.status_code == 303
    r = httpx.post(url + "/login", data={"secret": "ada.000000000000000000000000"})
    assert r.status_code == 401 and "ada" not in r.text


def test_instructor_sees_the_class_and_drills_down(dashboard, browser):
    page = browser.new_page()
    page.goto(dashboard["url"] + "/")
    assert page.url.endswith("/login")
    assert page.locator("#matrix").count() == 0
    page.fill("input[name=secret]", "not the password")
    page.click("button[type=submit]")
    assert "neither the instructor password" in page.locator("#error").inner_text()
    page.fill("input[name=secret]", instructor_password(dashboard["secret"]))
    page.click("button[type=submit]")
    page.wait_for_selector("#matrix")
    rows = page.locator("#matrix tbody tr")
    assert [r.get_attribute("data-student") for r in rows.all()] == ["ada", "bob", "cy"]
    ada = page.locator("tr[data-student=ada]").inner_text()
    assert "20/20" in ada and "2 attempts" in ada
    assert "1/20" in page.locator("tr[data-student=bob]").inner_text()
    hardest = page.locator("#hardest tbody tr").all()
    assert hardest, "the checks most students fail are listed"
    # bob's starter fails every planted bug; cy's wrong scenario fails one of them too.
    cy_fails = {c for c, s in dashboard["kinds"][dashboard["wrong"]].items() if s != "pass"}
    top = hardest[0].inner_text()
    assert "2 of 3" in top and any(c in top for c in cy_fails)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-instructor.png"), full_page=True)
    page.click("tr[data-student=ada] a")
    page.wait_for_selector("#history")
    assert "2 graded runs; best 20/20" in page.inner_text("body")
    row = page.locator("tr[data-check=create_returns_201]")
    assert [v.get_attribute("title") for v in row.locator(".v").all()] == ["fail", "pass"]
    page.screenshot(path=str(ARTIFACTS / "dashboard-history.png"), full_page=True)
    page.close()


def test_student_sees_only_their_own_rows(dashboard, browser):
    browser.clear_cookies()
    page = browser.new_page()
    page.goto(dashboard["url"] + "/login")
    page.fill("input[name=secret]", student_token(dashboard["secret"], "bob"))
    page.click("button[type=submit]")
    page.wait_for_selector("#matrix")
    assert page.inner_text("#who") == "bob"
    students = [r.get_attribute("data-student") for r in page.locator("#matrix tbody tr").all()]
    assert students == ["bob"]
    assert page.locator("#hardest").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-student.png"), full_page=True)
    response = page.goto(dashboard["url"] + "/students/ada/labs/crud")
    assert response.status == 403
    assert page.inner_text("#denied") == "Not allowed"
    assert "20/20" not in page.inner_text("body")
    response = page.goto(dashboard["url"] + "/students/bob/labs/crud")
    assert response.status == 200 and "bob · crud" in page.inner_text("h1")
    page.close()
    browser.clear_cookies()

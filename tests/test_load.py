"""checker.observe: locust runs (as a subprocess, never imported here), the statistics and
ratios read from them, the retry-then-error rule for a saturated locust, and the
server-side connection count."""

from __future__ import annotations

import http.server
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from checker.observe.connections import ConnectionWatch
from checker.observe.load import (
    Endpoint,
    LoadInvalid,
    LocustCouldNotRun,
    describe,
    p95_ratio,
    prepare_locust,
    run_locust,
    throughput_ratio,
)
from checker.paths import state_dir
from checker.services import providers
from checker.testing import fresh_database

from .conftest import ROOT, our_processes

LOCUSTFILE = """
from locust import HttpUser, constant, task

class Visitor(HttpUser):
    wait_time = constant(0.02)  # unthrottled, locust itself would saturate a quiet core

    @task(3)
    def fast(self):
        self.client.get("/fast")

    @task(1)
    def item(self):
        self.client.get("/items/7", name="/items/[id]")

    @task(1)
    def missing(self):
        self.client.get("/missing")
"""


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the stdlib's name
        if self.path == "/slow":
            time.sleep(0.3)
        status = 404 if self.path == "/missing" else 200
        body = b"{}"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # locust's users are killed mid-request when a run ends: not news


@pytest.fixture(scope="module")
def server():
    httpd = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def locustfile(tmp_path: Path) -> Path:
    path = tmp_path / "locustfile.py"
    path.write_text(LOCUSTFILE)
    return path


def test_a_run_reports_each_endpoint_and_streams_progress(server, locustfile, tmp_path):
    seen: list[dict] = []
    run = run_locust(locustfile, host=server, users=3, run_time_s=2, workdir=tmp_path / "w",
                     on_progress=seen.append)  # fmt: skip
    assert "locust" not in sys.modules, "locust must never be imported by the checker"
    assert run.names == ["/fast", "/items/[id]", "/missing"]
    fast, missing = run.endpoint("/fast"), run.endpoint("/missing")
    assert fast.requests > 20 and fast.failures == 0
    assert missing.failures == missing.requests > 0, "a 404 is a failure in locust's eyes"
    # Weights 3:1:1, so /fast gets about three times the requests of /missing.
    assert 1.5 < fast.requests / missing.requests < 6
    total = run.total
    assert total.requests == sum(e.requests for e in run.endpoints)
    assert 0 < total.p50 <= total.p95 <= total.p99 <= total.max_ms + 1
    assert total.rps > 10
    assert run.exit_code == 1, "locust exits 1 when requests failed"
    assert seen, "live samples arrive while the load runs"
    assert {"users", "rps", "p95_ms", "requests"} <= set(seen[-1])
    assert seen[-1]["users"] == 3
    assert "3 users" in describe(seen[-1])
    assert 0 < run.locust_cpu < 1.5
    assert run.mean_pause_s == pytest.approx(0.02), "constant(0.02) between a user's tasks"
    assert not our_processes(str(tmp_path)), "locust is gone once the run is over"


SLOW_LOCUSTFILE = """
import random
from locust import HttpUser, task

class Reader(HttpUser):
    def wait_time(self):  # computed as the users run: only measuring tells its pauses
        return random.uniform(0.05, 0.15)

    @task
    def slow(self):  # one step, two requests: one pause
        self.client.get("/slow")
        self.client.get("/slow")
"""


def test_a_run_measures_the_users_pauses_apart_from_response_times(server, tmp_path):
    path = tmp_path / "slow.py"
    path.write_text(SLOW_LOCUSTFILE)
    run = run_locust(path, host=server, users=4, run_time_s=2, workdir=tmp_path / "w")
    n, seconds = run.pauses
    assert n >= 4, "each user's pause between two tasks is counted"
    assert run.total.avg_ms >= 290, "the service takes 0.3 s a request"
    # What the wait_time asked for, uniform(0.05, 0.15), whatever the service's 0.3 s (a
    # requests-per-second estimate would see a user every 0.35 s) and whatever the number
    # of requests a step makes (gaps between requests would halve it here).
    assert 0.05 <= run.mean_pause_s <= 0.15, run.pauses
    assert n <= run.total.requests / 2, "a pause per step, not per request"


def test_a_prepared_run_waits_for_go_and_a_cancelled_one_leaves_nothing(
    server, locustfile, tmp_path
):
    held = prepare_locust(locustfile, host=server, users=2, run_time_s=1, workdir=tmp_path / "p")
    spare = prepare_locust(locustfile, host=server, users=2, run_time_s=1, workdir=tmp_path / "q")
    deadline = time.monotonic() + 30
    while not (held.ready() and spare.ready()):
        assert time.monotonic() < deadline, "a prepared locust never got ready"
        time.sleep(0.05)
    time.sleep(1.5)  # longer than the run: a run that had started would be over by now
    assert held._started.proc.poll() is None, "a prepared run waits for its go"
    assert not (tmp_path / "p" / "attempt-1" / "stats.json").exists()
    run = run_locust(locustfile, host=server, users=2, run_time_s=1, workdir=tmp_path / "p",
                     prepared=held)  # fmt: skip
    assert run.total.requests > 5 and run.attempts == 1
    spare.cancel()
    assert not our_processes(str(tmp_path)), "no locust is left, used or cancelled"


def test_ratios_compare_two_runs(server, locustfile, tmp_path):
    one = run_locust(locustfile, host=server, users=1, run_time_s=2, workdir=tmp_path / "a")
    four = run_locust(locustfile, host=server, users=4, run_time_s=2, workdir=tmp_path / "b")
    assert one.endpoint("/fast").rps > 0 and four.endpoint("/fast").rps > 0
    assert throughput_ratio(one, four) == pytest.approx(four.total.rps / one.total.rps)
    assert throughput_ratio(one, four, "/fast") == pytest.approx(
        four.endpoint("/fast").rps / one.endpoint("/fast").rps
    )
    assert p95_ratio(four, one) == pytest.approx(four.total.p95 / max(one.total.p95, 1))
    assert p95_ratio(four, one, baseline_q=0.5) == pytest.approx(
        four.total.p95 / max(one.total.p50, 1)
    )


def test_percentiles_follow_locusts_definition():
    # locust.stats.calculate_response_time_percentile: the smallest bucket such that at
    # most (1 - q) of the requests took longer.
    e = Endpoint("GET", "/x", requests=100, histogram={10: 90, 100: 6, 1000: 4})
    assert (e.p50, e.p95, e.p99) == (10, 100, 1000)
    merged = e.merged(Endpoint("GET", "/x", requests=100, histogram={10: 100}))
    assert merged.requests == 200 and (merged.p50, merged.p95, merged.p99) == (10, 100, 1000)


def test_a_saturated_locust_is_retried_once_then_cannot_judge(server, locustfile, tmp_path):
    # A threshold of 0 makes every attempt count as saturated.
    with pytest.raises(LoadInvalid) as info:
        run_locust(locustfile, host=server, users=2, run_time_s=2, workdir=tmp_path / "w",
                   max_cpu=0.0)  # fmt: skip
    assert info.value.cannot_judge
    assert "2 attempts" in info.value.message
    assert sorted(p.name for p in (tmp_path / "w").iterdir()) == ["attempt-1", "attempt-2"]


def test_a_broken_locustfile_is_reported_with_locusts_words(server, tmp_path):
    bad = tmp_path / "locustfile.py"
    bad.write_text("from locust import HttpUser\n\nclass Broken(HttpUser:\n    pass\n")
    with pytest.raises(LocustCouldNotRun) as info:
        run_locust(bad, host=server, users=1, run_time_s=1, workdir=tmp_path / "w")
    assert "SyntaxError" in info.value.log_tail


def test_cannot_judge_becomes_an_error_verdict_with_its_message():
    from checker.pytest_plugin import _describe

    try:
        raise LoadInvalid("Locust itself used 97% of a CPU core.")
    except LoadInvalid:
        status, message = _describe(pytest.ExceptionInfo.from_current())
    assert (status, message) == ("error", "Locust itself used 97% of a CPU core.")


def test_connection_watch_counts_peak_and_opened_connections():
    admin = providers(state_dir(ROOT)).postgres.ensure()
    with fresh_database("crud") as url:
        dbname = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
        observer = psycopg.connect(url)  # a check's own connection: not counted
        try:
            with ConnectionWatch(admin, dbname, exclude_pids=[observer.info.backend_pid]) as w:
                held = [psycopg.connect(url) for _ in range(3)]
                time.sleep(0.3)  # let the sampler see them
                for conn in held:
                    conn.close()
                for _ in range(4):  # four short-lived connections no sample may catch
                    psycopg.connect(url).close()
        finally:
            observer.close()
    assert w.peak == 3
    assert w.opened == 3 + 4


def test_the_notebooks_check_panel_shows_progress_while_it_runs():
    from checker.notebook import open_lab

    panel = open_lab("crud").check_panel()
    out = panel.children[1]
    shown: list[str] = []
    out.observe(lambda change: shown.append(change["new"]), names="value")
    panel.run()
    assert any("starting your service" in text for text in shown)
    assert "score" in out.value, "the result replaces the progress at the end"

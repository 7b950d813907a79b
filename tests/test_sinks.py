"""Provider sinks: a real sink process, driven as the checks drive it, and a whole run of
a fixture lab that declares one."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from checker import runner
from checker.catalog import Catalog, load_lab
from checker.errors import ManifestError
from checker.observe.sinks import Sink
from checker.sidecars.sinks import env_var, launch
from checker.workspace import Workspace

from .conftest import FIXTURE_CHECKS, FIXTURES, gone_within

QUEUE_COURSE = FIXTURES / "queue_course"


@pytest.fixture
def sink(tmp_path: Path):
    launched = launch(["email"], run_dir=tmp_path, env=dict(os.environ))
    try:
        url = launched.urls()["email"]
        s = Sink("email", url)
        yield s
        s.close()
    finally:
        launched.stop()
    assert gone_within(launched.helpers[0].pid), "the sink process outlives its stop"


def test_counts_deliveries_per_key(sink):
    r = httpx.post(f"{sink.url}/v1/send", json={"order_id": 42, "to": "a@example.org"})
    assert r.status_code == 200
    assert r.json() == {"id": "email_1", "key": "42", "status": "delivered"}
    httpx.post(f"{sink.url}/charges", json={"amount": 5}, headers={"Idempotency-Key": "k1"})
    httpx.post(f"{sink.url}/charges", json={"amount": 5}, headers={"Idempotency-Key": "k1"})
    assert sink.count("42") == 1
    assert sink.count("k1") == 2, "a sink counts, it never deduplicates"
    assert sink.counts() == {"42": 1, "k1": 2}
    first = sink.calls()[0]
    assert first["method"] == "POST" and first["path"] == "/v1/send"
    assert first["body"]["to"] == "a@example.org" and first["outcome"] == "ok"


def test_fail_next_then_recover_by_itself(sink):
    sink.fail_next(2)
    statuses = [httpx.post(f"{sink.url}/send", json={"id": "a"}).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert sink.count("a") == 1 and len(sink.calls("a")) == 3
    sink.fail_next(1, status=500)
    assert httpx.post(f"{sink.url}/send", json={"id": "b"}).status_code == 500


def test_timeout_holds_longer_than_the_caller_waits(sink):
    sink.fail_next(1, "timeout")
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{sink.url}/send", json={"id": "t"}, timeout=0.3)
    assert sink.calls("t")[0]["outcome"] == "timeout" and sink.count("t") == 0
    # A provider that did the work but whose answer was lost.
    sink.fail_next(1, "timeout", delay=0.2, deliver=True)
    r = httpx.post(f"{sink.url}/send", json={"id": "late"}, timeout=5)
    assert r.status_code == 504 and sink.count("late") == 1


def test_recover_releases_held_calls_and_drops_faults(sink):
    sink.fail_always("timeout")
    sink.fail_next(3)
    sink.recover()
    assert httpx.post(f"{sink.url}/send", json={"id": "x"}).status_code == 200
    sink.fail_always()
    codes = {httpx.post(f"{sink.url}/send", json={"id": "y"}).status_code for _ in range(4)}
    assert codes == {503}
    sink.reset()
    assert sink.calls() == []
    assert httpx.post(f"{sink.url}/send", json={"id": "y"}).status_code == 200


def test_wait_for_count_and_settle(sink):
    assert sink.wait_for_count("never", timeout=0.2) == 0
    httpx.post(f"{sink.url}/send", json={"id": "w"})
    assert sink.wait_for_count("w", timeout=2) == 1
    assert sink.settle(quiet=0.1) == 1


def test_control_api_refuses_unknown_modes(sink):
    r = httpx.post(f"{sink.url}/_sink/fail", json={"mode": "explode"})
    assert r.status_code == 400
    assert httpx.get(f"{sink.url}/_sink/nothing").status_code == 404


def test_sink_names_are_validated(tmp_path):
    lab_dir = tmp_path / "labs" / "01-notify"
    lab_dir.mkdir(parents=True)
    manifest = (QUEUE_COURSE / "labs" / "01-notify" / "lab.toml").read_text()
    for bad, problem in (('["Email"]', "lowercase"), ('["email", "email"]', "twice")):
        (lab_dir / "lab.toml").write_text(manifest.replace('["email"]', bad))
        with pytest.raises(ManifestError) as info:
            load_lab(lab_dir)
        assert info.value.field == "sinks" and problem in info.value.problem
    assert env_var("payments") == "PAYMENTS_PROVIDER_URL"


@pytest.fixture
def notify(monkeypatch):
    monkeypatch.setenv("LAB_COURSE_DIR", str(QUEUE_COURSE))
    monkeypatch.setenv("LAB_CHECKS_DIR", str(FIXTURE_CHECKS))
    return Catalog(QUEUE_COURSE).get("notify")


def _run(lab, monkeypatch, **env):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    state = Path(os.environ["LAB_HOME"])
    result = runner.run(lab, Workspace(lab.path, "starter"), state=state)
    assert result.error is None, result.error
    return result


def test_a_run_starts_the_lab_sinks_and_stops_them(notify, monkeypatch):
    result = _run(notify, monkeypatch)
    assert {c.id: (c.status, c.message) for c in result.checks} == {
        "sends_once": ("pass", ""),
        "reports_provider_failure": ("pass", ""),
        "worker_recovers": ("pass", ""),
    }
    run_dir = max((Path(os.environ["LAB_HOME"]) / "runs").glob("*-notify-*"))
    assert "POST /v1/send key=7 outcome=ok" in (run_dir / "sink-email.log").read_text()
    assert not _sink_processes(), "no sink outlives its run"


def test_the_checks_see_a_double_send(notify, monkeypatch):
    result = _run(notify, monkeypatch, NOTIFY_TIMES="2")
    sends = next(c for c in result.checks if c.id == "sends_once")
    assert sends.status == "fail"
    assert sends.message == "expected one email for order 7, got 2"


def _sink_processes() -> list[int]:
    import psutil

    home = os.environ["LAB_HOME"]
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if "checker.sidecars.sinks" in cmd and home in cmd:
            found.append(proc.pid)
    return found


def test_idempotency_keys_are_honoured_on_request(sink):
    def send(key):
        return httpx.post(f"{sink.url}/charges", json={"order_id": 1},
                          headers={"Idempotency-Key": key})  # fmt: skip

    send("a")
    send("a")
    assert sink.count("a") == 2, "off by default: every call counts"
    sink.reset()
    sink.honour_idempotency_keys()
    first, again = send("a"), send("a")
    assert again.json() == first.json(), "a replay answers like the first call"
    assert [c["outcome"] for c in sink.calls()] == ["ok", "replay"] and sink.count("a") == 1
    # A key derived from the body's order_id is what a call is about, not a caller's key.
    httpx.post(f"{sink.url}/send", json={"order_id": 5})
    httpx.post(f"{sink.url}/send", json={"order_id": 5})
    assert sink.count("5") == 2
    # A call that did the work but whose answer was lost is replayed on retry.
    sink.fail_next(1, "timeout", delay=0.1, deliver=True)
    assert send("b").status_code == 504 and send("b").status_code == 200
    assert sink.count("b") == 1
    sink.reset()
    send("a")
    send("a")
    assert sink.count("a") == 2, "a reset turns it off again"


def test_hang_holds_calls_until_released_and_counts_them_in_flight(sink):
    from concurrent.futures import ThreadPoolExecutor

    sink.hang_next(3)
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(httpx.post, f"{sink.url}/send", json={"id": f"h{i}"}, timeout=30)
                   for i in range(3)]  # fmt: skip
        assert sink.wait_for_count("never", timeout=0.5) == 0
        assert all(not f.done() for f in futures), "a hung call does not answer"
        assert sink.stats()["in_flight"] == 3 and sink.max_in_flight() == 3
        sink.release()
        assert [f.result().status_code for f in futures] == [504, 504, 504]
    assert sink.stats()["in_flight"] == 0 and sink.max_in_flight() == 3
    assert {c["outcome"] for c in sink.calls()} == {"hang"} and sink.counts() == {}
    assert all(c["answered_at"] >= c["at"] for c in sink.calls())
    sink.reset()
    assert sink.max_in_flight() == 0


def test_retry_after_redirect_and_chosen_bytes(sink):
    sink.fail_next(1, status=429, retry_after=7)
    r = httpx.post(f"{sink.url}/charge", json={"id": "r"})
    assert r.status_code == 429 and r.headers["retry-after"] == "7"
    sink.redirect_next("http://169.254.169.254/latest", status=301)
    r = httpx.get(f"{sink.url}/cover.png")
    assert r.status_code == 301 and r.headers["location"] == "http://169.254.169.254/latest"
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    sink.respond_next(png, content_type="image/png")
    r = httpx.get(f"{sink.url}/cover.png")
    assert r.status_code == 200 and r.content == png
    assert r.headers["content-type"] == "image/png"
    assert [c["outcome"] for c in sink.calls()] == ["error", "redirect", "respond"]


def test_respond_repeat_sends_a_huge_body_from_a_small_order(sink):
    chunk = b"\x89PNG\r\n\x1a\n" + bytes(1016)
    sink.respond_next(chunk, content_type="image/png", repeat=3000)  # 3 MB
    r = httpx.get(f"{sink.url}/huge.png")
    assert r.status_code == 200 and int(r.headers["content-length"]) == 3000 * 1024
    assert r.content == chunk * 3000


def test_latency_and_raw_bodies_and_headers_are_kept(sink):
    import time

    sink.set_latency(0.3)
    raw = b'{"b": 1,  "a": "\xc3\xa9"}'
    t0 = time.monotonic()
    r = httpx.post(f"{sink.url}/hook", content=raw,
                   headers={"Content-Type": "application/json", "Webhook-ID": "msg_1"})  # fmt: skip
    assert r.status_code == 200 and time.monotonic() - t0 >= 0.3
    call = sink.calls()[0]
    assert sink.raw(call) == raw, "the body exactly as sent, spacing and bytes kept"
    assert ["Webhook-ID", "msg_1"] in call["raw_headers"], "header names keep their case"
    assert call["answered_at"] - call["at"] >= 0.3
    sink.reset()
    t0 = time.monotonic()
    httpx.post(f"{sink.url}/hook", json={})
    assert time.monotonic() - t0 < 0.3, "reset drops the latency"

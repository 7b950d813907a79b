"""Lab 11 (observability), verified independently of its own checks.

The checks read /metrics with our parser (``checker.observe.metrics``) and judge
``traceparent`` with their own regular expression. Here both are held against
references we did not write: Prometheus's own Python parser reads the same
exposition, and every ``traceparent`` the payment provider received is matched against
the W3C Trace Context Level 1 grammar, written below from the specification's text.
Plus our parser's strictness on what it must refuse.
"""

from __future__ import annotations

import math
import re

import pytest

from checker.observe.metrics import MetricsFormatError, parse

# -- W3C Trace Context Level 1, section 3.2 "Traceparent Header" -------------------------
# https://www.w3.org/TR/trace-context/#traceparent-header-field-values
#   HEXDIGLC = DIGIT / "a" / "b" / "c" / "d" / "e" / "f" ; lowercase hex character
#   value           = version "-" version-format
#   version         = 2HEXDIGLC   ; this is the version 00; "ff" is forbidden (3.2.2.1)
#   version-format  = trace-id "-" parent-id "-" trace-flags
#   trace-id        = 32HEXDIGLC  ; 16 bytes array identifier. All zeroes forbidden
#   parent-id       = 16HEXDIGLC  ; 8 bytes array identifier. All zeroes forbidden
#   trace-flags     = 2HEXDIGLC   ; 8 bit flags.
HEXDIGLC = "[0-9a-f]"
W3C_TRACEPARENT = re.compile(
    rf"(?P<version>{HEXDIGLC}{{2}})-(?P<trace_id>{HEXDIGLC}{{32}})-"
    rf"(?P<parent_id>{HEXDIGLC}{{16}})-(?P<flags>{HEXDIGLC}{{2}})"
)


def w3c_valid(value: str) -> bool:
    m = W3C_TRACEPARENT.fullmatch(value)
    return bool(
        m
        and m["version"] == "00"  # what a version-00 sender must send (3.2.2.1)
        and m["trace_id"] != "0" * 32  # 3.2.2.3: all zeroes is invalid
        and m["parent_id"] != "0" * 16  # 3.2.2.4: all zeroes is invalid
    )


def test_the_grammar_itself():
    good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"  # the spec's example
    assert w3c_valid(good)
    for bad in (good.upper(), good.replace("00-", "ff-", 1), "00-" + "0" * 32 + good[35:],
                good[:36] + "0" * 16 + good[52:], good[:-1], good + "-"):  # fmt: skip
        assert not w3c_valid(bad), bad


# -- our parser's strictness ----------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        'x{a="1"} nope',
        "x{a=1} 1",
        "# TYPE x sometype",
        "x 1\ny 2\nx 3",
        'x{a="1",a="2"} 1',
        'x{a="\\q"} 1',
        "x 1 1.5",
        '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\nh_sum 0.5',
        '# TYPE h histogram\nh_bucket{le="1"} 1\nh_count 1\nh_sum 0.5',
        "x 1\nx 2",
    ],
)
def test_our_parser_refuses(text):
    with pytest.raises(MetricsFormatError):
        parse(text)


def test_our_parser_reads_escapes_and_specials():
    e = parse('# HELP x a help\n# TYPE x gauge\nx{a="q\\"\\\\\\n"} +Inf 1700000000000\n')
    (sample,) = e.samples()
    assert sample.label("a") == 'q"\\\n' and sample.value == math.inf


# -- the solution, against the references -----------------------------------------------
@pytest.fixture(scope="module")
def solution():
    from checker.notebook import open_lab

    lab = open_lab("observability", solution=True)
    svc = lab.start()
    try:
        yield svc
    finally:
        svc.stop()


def _family_samples(text: str):
    from prometheus_client.parser import text_string_to_metric_families

    return {(s.name, tuple(sorted(s.labels.items())), s.value)
            for f in text_string_to_metric_families(text) for s in f.samples}  # fmt: skip


def test_metrics_and_traceparent_against_the_references(solution):
    http, payments = solution.http, solution.sinks["payments"]
    credentials = {"email": "verify@example.org", "password": "a long passphrase"}
    assert http.post("/users", json=credentials).status_code == 201
    token = http.post("/login", json=credentials).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    card = "4242424242424242"
    incoming = [None, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00",
                "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",  # invalid: uppercase
                "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"]  # fmt: skip
    for i, traceparent in enumerate(incoming):
        headers = {**auth, **({"traceparent": traceparent} if traceparent else {})}
        r = http.post("/orders", json={"book_id": 1 + i, "card_number": card}, headers=headers)
        assert r.status_code == 201, r.text
    payments.fail_next(1, status=503)
    assert (
        http.post("/orders", json={"book_id": 9, "card_number": card}, headers=auth).status_code
        == 500
    )
    for path in ("/books/1", "/books/99999", "/no/such/page"):
        http.get(path)

    # Every traceparent the provider received, against the W3C grammar.
    calls = payments.calls()
    assert len(calls) == len(incoming) + 1
    received = [c["headers"].get("traceparent") for c in calls]
    assert all(value and w3c_valid(value) for value in received), received
    for sent, got in zip(incoming[1:3], received[1:3], strict=True):
        assert got.split("-")[1] == sent.split("-")[1]  # the same trace
        assert got.split("-")[2] != sent.split("-")[2]  # a span of the service's own
        assert got.split("-")[3] == sent.split("-")[3]  # the same flags

    # /metrics, read by Prometheus's own parser and by ours: the same samples.
    text = http.get("/metrics").text
    theirs = _family_samples(text)
    ours = {(s.name, s.labels, s.value) for s in parse(text).samples()}
    assert ours == theirs
    counts = parse(text).histogram_counts("http_server_request_duration_seconds")
    by_route = {}
    for labels, value in counts.items():
        d = dict(labels)
        key = (d["http_route"], d["http_response_status_code"])
        by_route[key] = by_route.get(key, 0) + value
    assert by_route[("/orders", "201")] == len(incoming)
    assert by_route[("/orders", "500")] == 1
    assert by_route[("unmatched", "404")] == 1

"""Bonus: the service's spans reach an OpenTelemetry collector over OTLP/HTTP.

Two orders, one in a caller's (sampled) trace, one with no traceparent. For each: a
SERVER span `POST /orders` in the trace the payment provider saw, a child of the
caller's span (or a root), with the HTTP semantic conventions' attributes; and the
CLIENT span whose id the provider received as parent-id, under that SERVER span.
The README promises the collector sees a span within a second of its end (the lab sets
OTEL_BSP_SCHEDULE_DELAY to 100 ms); the check waits half a second more. It stops sooner
when nothing can come: the collector has received no export at all since the run began,
though an order of this run was answered that long ago (its spans were due by now).
"""

from __future__ import annotations

import time
from typing import Any

from _helpers import (
    BOOKS,
    card_number,
    first_order_answered,
    hexid,
    parse_traceparent,
    request_id,
    said,
    shown,
)

from checker.verdict import fail

WAIT_S = 1.5
SERVER_ATTRIBUTES = ("http.request.method", "url.path", "url.scheme", "http.route",
                     "http.response.status_code")  # fmt: skip
CLIENT_ATTRIBUTES = ("http.request.method", "url.full", "server.address", "server.port",
                     "http.response.status_code")  # fmt: skip


def _order(customer, payments, rng, headers: dict[str, str]) -> tuple[str, str, str]:
    """(what the caller sent, trace-id and parent-id the provider received)."""
    r = customer.order(rng.choice(BOOKS), card_number(rng),
                       headers={**headers, "X-Request-ID": request_id(rng, "otlp")})  # fmt: skip
    if r.status_code != 201:
        fail("unexpected-status", f"POST /orders answered {said(r)}; expected 201.")
    calls = payments.calls(key=str(r.json().get("id")))
    if len(calls) != 1:
        fail("unexpected-calls",
             f"An order made {len(calls)} calls to the payment provider; expected 1.")  # fmt: skip
    received = calls[0]["headers"].get("traceparent")
    parsed = parse_traceparent(received)
    if parsed is None:
        fail("invalid-header", f"POST /orders made the provider receive traceparent "
             f"{received!r}; expected a valid W3C one (see the trace context check).")  # fmt: skip
    return headers.get("traceparent", ""), parsed[0], parsed[1]


def _described(spans: list[dict[str, Any]], limit: int = 6) -> str:
    if not spans:
        return "none"
    out = [f"{s['kind']} {s['name']!r} (id {s['span_id']}, parent {s['parent_span_id'] or '-'})"
           for s in spans[:limit]]  # fmt: skip
    return ", ".join(out) + (" ..." if len(spans) > limit else "")


def _semconv(span: dict[str, Any], wanted: dict[str, Any], names: tuple[str, ...]) -> None:
    attributes = span["attributes"]
    for name in names:
        got, expected = attributes.get(name), wanted.get(name)
        ok = got is not None if expected is None else got == expected
        if name == "url.full":
            ok = isinstance(got, str) and got.split("?")[0].endswith("/charges")
        if name == "server.port":
            ok = isinstance(got, int) and not isinstance(got, bool) and got > 0
        if not ok:
            want = (f"{expected!r}" if expected is not None else "a value") + (
                " (a number)" if isinstance(expected, int) else "")  # fmt: skip
            if name == "url.full":
                want = "the provider's URL, ending in /charges"
            if name == "server.port":
                want = "the provider's port (a number)"
            fail("semconv", f"The {span['kind']} span {span['name']!r} has {name} = {got!r}; "
                 f"expected {want} (OpenTelemetry's HTTP semantic conventions).")  # fmt: skip


def _descends(span: dict[str, Any], ancestor: str, by_id: dict[str, dict[str, Any]]) -> bool:
    seen: set[str] = set()
    parent = span["parent_span_id"]
    while parent and parent not in seen:
        if parent == ancestor:
            return True
        seen.add(parent)
        parent = by_id.get(parent, {}).get("parent_span_id", "")
    return False


def _judge(spans, sent: str, trace_id: str, parent_id: str) -> None:
    label = f"with traceparent {sent}" if sent else "without traceparent"
    ours = [s for s in spans if s["trace_id"] == trace_id]
    by_id = {s["span_id"]: s for s in ours}
    servers = [s for s in ours if s["kind"] == "SERVER"
               and s["attributes"].get("http.route") == "/orders"]  # fmt: skip
    servers = servers or [s for s in ours if s["kind"] == "SERVER"]
    if not servers:
        fail("no-server-span", f"POST /orders {label}: the collector received no SERVER span in "
             f"its trace {trace_id}; spans of that trace: {_described(ours)}.")  # fmt: skip
    caller = sent.split("-")[2] if sent else ""
    fitting = [s for s in servers if s["parent_span_id"] == caller]
    if not fitting:
        s = servers[0]
        fail("server-parent", f"POST /orders {label}: its SERVER span {s['name']!r} has parent "
             f"{s['parent_span_id'] or 'none'}; expected "
             + (f"the caller's span, {caller}." if caller else "none: it starts a new trace."))  # fmt: skip
    server = fitting[0]
    if server["name"] != "POST /orders":
        fail("semconv", f"The SERVER span of POST /orders is named {server['name']!r}; expected "
             "'POST /orders' (method and route template).")  # fmt: skip
    _semconv(server, {"http.request.method": "POST", "url.path": "/orders", "url.scheme": "http",
                      "http.route": "/orders", "http.response.status_code": 201},
             SERVER_ATTRIBUTES)  # fmt: skip
    client = by_id.get(parent_id)
    if client is None:
        elsewhere = [s for s in spans if s["span_id"] == parent_id]
        fail("client-not-exported", f"POST /orders {label}: the provider received parent-id "
             f"{parent_id}, but no span of trace {trace_id} has that id"
             + (" (a span of another trace has)" if elsewhere else "")
             + f"; spans of the trace: {_described(ours)}. Expected the CLIENT span of the "
             "call.")  # fmt: skip
    if client["kind"] != "CLIENT":
        fail("client-not-exported", f"POST /orders {label}: the provider received parent-id "
             f"{parent_id}, the id of a {client['kind']} span {client['name']!r}; expected "
             "a CLIENT span around the call.")  # fmt: skip
    if not _descends(client, server["span_id"], by_id):
        fail("client-not-child", f"POST /orders {label}: the CLIENT span {parent_id} has parent "
             f"{client['parent_span_id'] or 'none'}; expected it under the request's SERVER "
             f"span {server['span_id']}.")  # fmt: skip
    _semconv(client, {"http.request.method": "POST", "http.response.status_code": 200},
             CLIENT_ATTRIBUTES)  # fmt: skip


def test_traces_exported(collector, sinks, rng, shopper):
    payments = sinks["payments"]
    customer = shopper()
    caller = f"00-{hexid(rng, 32)}-{hexid(rng, 16)}-01"  # sampled: its spans are recorded
    orders = [_order(customer, payments, rng, {"traceparent": caller}),
              _order(customer, payments, rng, {})]  # fmt: skip
    wanted = {parent_id for _, _, parent_id in orders}

    def arrived(spans: list[dict[str, Any]]) -> bool:
        ids = {s["span_id"] for s in spans}
        servers = {s["trace_id"] for s in spans if s["kind"] == "SERVER"}
        return wanted <= ids and {t for _, t, _ in orders} <= servers

    first = first_order_answered()
    deadline = time.monotonic() + WAIT_S
    while True:
        status = collector.status()
        spans, now = status["spans"], time.monotonic()
        if arrived(spans) or now > deadline:
            break
        if not status["exports_ever"] and first is not None and now - first > WAIT_S:
            # Not one export since the collector started, though the spans of an order
            # answered WAIT_S ago were due: none will come.
            fail("nothing-exported", f"The OTLP collector at OTEL_EXPORTER_OTLP_ENDPOINT has "
                 f"received no export at all since the service started, though the service "
                 f"answered an order {now - first:.1f} s ago (and two more just now); "
                 "expected the service's spans (POST /v1/traces) within a second of each "
                 "request.")  # fmt: skip
        time.sleep(0.05)
    if status["rejected"] and not spans:
        fail("not-otlp", f"The collector could not read what the service exported: "
             f"{shown(status['rejected'][0])}.")  # fmt: skip
    if not spans:
        fail("nothing-exported", f"Within {WAIT_S:g} s of two orders the OTLP collector at "
             "OTEL_EXPORTER_OTLP_ENDPOINT received "
             + ("no export at all" if not status["exports"] else "exports without spans")
             + "; expected the service's spans (POST /v1/traces).")  # fmt: skip
    for sent, trace_id, parent_id in orders:
        _judge(spans, sent, trace_id, parent_id)

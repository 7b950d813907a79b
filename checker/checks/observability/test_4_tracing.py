"""W3C Trace Context (Level 1) through the service, to the payment provider."""

from __future__ import annotations

import string

from _helpers import (
    BOOKS,
    access_lines,
    card_number,
    hexid,
    parse_traceparent,
    request_id,
    said,
    token_of,
    wait_access,
)

from checker.verdict import fail


def _order(customer, payments, rng, logs, headers):
    rid = request_id(rng, "trace")
    mark = logs.mark()
    r = customer.order(
        rng.choice(BOOKS), card_number(rng), headers={**headers, "X-Request-ID": rid}
    )
    if r.status_code != 201:
        fail("unexpected-status", f"POST /orders answered {said(r)}; expected 201.")
    calls = payments.calls(key=str(r.json().get("id")))
    if len(calls) != 1:
        fail(
            "unexpected-calls",
            f"An order made {len(calls)} calls to the payment provider; expected 1.",
        )
    wait_access(logs, mark, [rid])
    lines = access_lines(logs.records(since=mark), rid)
    return calls[0]["headers"], (lines[0] if lines else {})


def test_trace_context_propagates(http, sinks, logs, rng, shopper):
    payments = sinks["payments"]
    customer = shopper()
    # A caller's trace, sampled and not: same trace-id, same flags, a new parent-id.
    for flags in rng.sample(["01", "00"], 2):
        trace_id, parent_id = hexid(rng, 32), hexid(rng, 16)
        # Valid W3C keys (a simple key starts with a letter): a tracestate a service may
        # not parse is one it may drop.
        key = rng.choice(string.ascii_lowercase) + token_of(rng, 4)
        state = f"{key}={token_of(rng, 8)},{token_of(rng, 4)}@folio={hexid(rng, 16)}"
        sent = f"00-{trace_id}-{parent_id}-{flags}"
        got, line = _order(
            customer, payments, rng, logs, {"traceparent": sent, "tracestate": state}
        )
        received = got.get("traceparent")
        parsed = parse_traceparent(received)
        if parsed is None:
            fail("invalid-header", f"POST /orders with traceparent {sent} made the provider receive "
                 f"traceparent {received!r}; expected a valid one continuing that trace.")  # fmt: skip
        if parsed[1] == parent_id:
            fail("parent-forwarded", f"POST /orders with traceparent {sent}: the provider received "
                 f"{received}, the caller's parent-id unchanged; expected the id of a span of the "
                 "service's own.")  # fmt: skip
        if parsed[0] != trace_id or parsed[2] != flags:
            fail("trace-lost", f"POST /orders with traceparent {sent}: the provider received "
                 f"{received}; expected trace-id {trace_id} and flags {flags} kept.")  # fmt: skip
        tracestate = (got.get("tracestate") or "").replace(" ", "")
        if not (tracestate == state or tracestate.endswith("," + state)):
            fail("tracestate-lost", f"POST /orders with tracestate {state!r}: the provider "
                 f"received tracestate {got.get('tracestate')!r}; expected it passed on.")  # fmt: skip
        if line.get("trace_id") != trace_id:
            fail("no-trace-id", f"The access line of POST /orders with traceparent {sent} has "
                 f"trace_id {line.get('trace_id')!r}; expected {trace_id}.")  # fmt: skip
    # No traceparent, or one that is not valid: a new trace each time.
    invalid = [
        f"00-{hexid(rng, 32).upper()}-{hexid(rng, 16)}-01",  # uppercase is not allowed
        f"00-{'0' * 32}-{hexid(rng, 16)}-01",  # all zeros
        f"ff-{hexid(rng, 32)}-{hexid(rng, 16)}-01",  # version ff is invalid
        f"00-{hexid(rng, 31)}-{hexid(rng, 16)}-01",
    ]
    seen = set()
    for incoming in [None, None, rng.choice(invalid)]:
        headers = {} if incoming is None else {"traceparent": incoming}
        got, line = _order(customer, payments, rng, logs, headers)
        parsed = parse_traceparent(got.get("traceparent"))
        label = (
            "without traceparent"
            if incoming is None
            else f"with the invalid traceparent {incoming}"
        )
        if parsed is None:
            fail("invalid-header", f"POST /orders {label} made the provider receive traceparent "
                 f"{got.get('traceparent')!r}; expected a valid new one (version 00).")  # fmt: skip
        if incoming is not None and parsed[0] in incoming.lower():
            fail("invalid-header", f"POST /orders {label}: the provider received "
                 f"{got.get('traceparent')}; an invalid header starts a new trace.")  # fmt: skip
        if parsed[0] in seen:
            fail("trace-lost", f"Two requests without traceparent sent the provider the same "
                 f"trace-id {parsed[0]}; expected a new trace each.")  # fmt: skip
        seen.add(parsed[0])
        if line.get("trace_id") != parsed[0]:
            fail("no-trace-id", f"The access line of POST /orders {label} has trace_id "
                 f"{line.get('trace_id')!r}; expected the trace-id the provider received, {parsed[0]}.")  # fmt: skip

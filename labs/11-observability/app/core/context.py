"""What the service knows about the request it is serving: its id and its trace.

The request middleware sets it once per request; the log filter, the payment client
and the error handlers read it, so no function has to pass it along.

Trace context follows W3C Trace Context Level 1: `traceparent` is
`00-<trace-id: 32 hex>-<parent-id: 16 hex>-<trace-flags: 2 hex>`, lowercase, and
`tracestate` carries vendors' entries, passed on as received.
"""

import re
import secrets
from dataclasses import dataclass

TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")


def new_trace_id() -> str:
    return secrets.token_hex(16)


def new_span_id() -> str:
    return secrets.token_hex(8)


@dataclass(frozen=True)
class TraceContext:
    trace_id: str
    span_id: str  # the span of ours: the parent of every call we make
    flags: str = "01"  # 01: sampled
    tracestate: str | None = None

    @property
    def traceparent(self) -> str:
        """The header that makes a call we send part of this trace, under our span."""
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"

    @classmethod
    def start(cls) -> "TraceContext":
        return cls(trace_id=new_trace_id(), span_id=new_span_id())

    @classmethod
    def continue_from(cls, traceparent: str | None, tracestate: str | None) -> "TraceContext":
        """Join the caller's trace, or start a new one if its header is absent or invalid."""
        match = TRACEPARENT.fullmatch((traceparent or "").strip())
        if match is None:
            return cls.start()
        trace_id, parent_id, flags = match.groups()
        if trace_id == "0" * 32 or parent_id == "0" * 16:
            return cls.start()  # all zeros is invalid (W3C Trace Context, section 3.2.2)
        # TODO: in the payment provider's traces, its spans hang straight under our
        # caller's span, and the time spent in our service is nowhere to be seen.
        return cls(trace_id=trace_id, span_id=parent_id, flags=flags, tracestate=tracestate)


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    trace: TraceContext


# TODO: under load, log lines carry the request id of some other request.
_current: RequestContext | None = None


def set_current(context: RequestContext) -> None:
    global _current
    _current = context


def current() -> RequestContext | None:
    return _current

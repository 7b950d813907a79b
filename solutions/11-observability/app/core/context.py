"""What the service knows about the request it is serving: its id and its trace.

The request middleware sets it once per request; the log filter, the payment client
and the error handlers read it, so no function has to pass it along.

The trace is OpenTelemetry's (app/core/tracing.py): it reads the caller's W3C
`traceparent` and `tracestate`, makes the request's span, and writes the headers of
the calls we make. This holds what a log line needs of it: the ids, in lowercase hex as
W3C Trace Context writes them.
"""

from contextvars import ContextVar
from dataclasses import dataclass

from opentelemetry.trace import Span


@dataclass(frozen=True)
class TraceContext:
    trace_id: str
    span_id: str  # the request's span: the parent of every call we make

    @classmethod
    def of(cls, span: Span) -> "TraceContext":
        ids = span.get_span_context()
        return cls(trace_id=format(ids.trace_id, "032x"), span_id=format(ids.span_id, "016x"))


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    trace: TraceContext


# One value per request: each request runs in an asyncio task (and its sync code in a
# thread) with its own copy of the context, so requests in flight never see each
# other's. A module-level variable would be shared by all of them.
_current: ContextVar[RequestContext | None] = ContextVar("request_context", default=None)


def set_current(context: RequestContext) -> None:
    _current.set(context)


def current() -> RequestContext | None:
    return _current.get()

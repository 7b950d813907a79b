"""The request middleware: an id and a span for every request, one access line when
it is done, and a 500 with the id in it for anything a route did not handle."""

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from opentelemetry.trace import Span

from app.api.errors import problem
from app.core import context, tracing
from app.core.metrics import route_template

access_log = logging.getLogger("app.access")
error_log = logging.getLogger("app.errors")

# An id we accept from the caller: 1 to 128 letters, digits, `-`, `_`, `.` or `:`.
# Anything else (spaces, control characters, 10 kB of text) could forge or flood our
# log lines: it is replaced by one of our own.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id_of(request: Request) -> str:
    incoming = request.headers.get("x-request-id", "")
    return incoming if REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


async def request_context(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    with tracing.server_span(request) as span:
        return await _serve(request, call_next, span)


async def _serve(
    request: Request, call_next: Callable[[Request], Awaitable[Response]], span: Span
) -> Response:
    request_id = request_id_of(request)
    trace = context.TraceContext.of(span)
    context.set_current(context.RequestContext(request_id=request_id, trace=trace))
    started = time.perf_counter()
    try:
        response = await call_next(request)
    except Exception:
        # Logged here, inside the request, so the traceback carries its id and trace.
        error_log.exception("Unhandled error in %s %s", request.method, route_template(request))
        response = problem(
            500, f"Something went wrong on our side. Quote request id {request_id} to support."
        )
    route = route_template(request)
    tracing.server_span_done(span, request, route, response)
    access_log.info(
        "%s %s %s",
        request.method,
        route,
        response.status_code,
        extra={
            "method": request.method,
            "route": route,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        },
    )
    response.headers["X-Request-ID"] = request_id
    return response

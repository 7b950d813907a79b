"""Request metrics for Prometheus: the RED method (rate, errors, duration) in one
histogram, named as OpenTelemetry's HTTP semantic conventions name it
(`http.server.request.duration`, in seconds), in Prometheus's text format."""

import time
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from prometheus_client import Histogram

# OpenTelemetry's recommended boundaries for http.server.request.duration, in seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)

REQUEST_DURATION = Histogram(
    "http_server_request_duration_seconds",
    "Duration of HTTP server requests.",
    ["http_request_method", "http_route", "http_response_status_code"],
    buckets=BUCKETS,
)

UNMATCHED = "unmatched"  # the route of a request no route matched (a 404)


def route_template(request: Request) -> str:
    """The route that served the request, as declared (`/books/{book_id}`), never the
    path it was called with: one series per route, however many ids there are."""
    route = request.scope.get("route")
    return getattr(route, "path", UNMATCHED)


def _observe(request: Request, status: int, started: float) -> None:
    REQUEST_DURATION.labels(
        http_request_method=request.method,
        http_route=request.url.path,  # TODO: the metrics server ran out of memory
        http_response_status_code=str(status),
    ).observe(time.perf_counter() - started)


async def record_request(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    started = time.perf_counter()
    # TODO: the dashboard showed no errors at all, all through last night's outage.
    response = await call_next(request)
    _observe(request, response.status_code, started)
    return response

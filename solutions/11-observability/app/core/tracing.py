"""Traces: a span for each request we serve and for each call we make, exported.

OpenTelemetry's SDK makes the spans; its batch processor sends them, a few at a time, to
the collector at OTEL_EXPORTER_OTLP_ENDPOINT over OTLP/HTTP. The SDK reads that and
OTEL_BSP_SCHEDULE_DELAY (how long a finished span may wait for its batch) from the
environment. Without an endpoint the spans are still made, so our log lines and our
calls carry a trace, but they are sent nowhere.

Names and attributes follow OpenTelemetry's HTTP semantic conventions, so any tracing
backend can show and query them: a SERVER span per request (`POST /orders`), and under
it a CLIENT span per call to a provider (`POST`), whose id is the parent-id the
provider receives in our traceparent.
"""

from contextlib import AbstractContextManager

import httpx
from fastapi import Request, Response
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, SpanKind, StatusCode

SERVICE_NAME = "folio-orders"
tracer = trace.get_tracer("app")


def setup_tracing(*, export: bool) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
    if export:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


def server_span(request: Request) -> AbstractContextManager[Span]:
    """The request's SERVER span, current while it is served: a child of the caller's
    span if its traceparent is valid (W3C Trace Context), else the root of a new trace."""
    caller = propagate.extract(request.headers)
    attributes = {
        "http.request.method": request.method,
        "url.path": request.url.path,
        "url.scheme": request.url.scheme,
    }
    return tracer.start_as_current_span(request.method, caller, SpanKind.SERVER, attributes)


def server_span_done(span: Span, request: Request, route: str, response: Response) -> None:
    """What is known once the route ran: its template and the status we answer."""
    span.update_name(f"{request.method} {route}")
    span.set_attribute("http.route", route)
    span.set_attribute("http.response.status_code", response.status_code)
    if response.status_code >= 500:
        span.set_attribute("error.type", str(response.status_code))
        span.set_status(StatusCode.ERROR)


def client_span(request: httpx.Request) -> AbstractContextManager[Span]:
    """A CLIENT span around one call we make, current while it runs: the call's
    traceparent (app.providers) names it as the provider's parent."""
    attributes = {
        "http.request.method": request.method,
        "url.full": str(request.url),
        "server.address": request.url.host,
        "server.port": request.url.port or (443 if request.url.scheme == "https" else 80),
    }
    return tracer.start_as_current_span(request.method, kind=SpanKind.CLIENT, attributes=attributes)


def client_span_done(span: Span, response: httpx.Response) -> None:
    span.set_attribute("http.response.status_code", response.status_code)
    if response.status_code >= 400:
        span.set_attribute("error.type", str(response.status_code))
        span.set_status(StatusCode.ERROR)

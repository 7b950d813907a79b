"""Request metrics by prometheus-fastapi-instrumentator: its `handler` label (the route
template, `none` for unmatched paths) and grouped statuses (`2xx`, `4xx`, `5xx`)."""

from fastapi import FastAPI, Request
from prometheus_fastapi_instrumentator import Instrumentator, metrics

UNMATCHED = "unmatched"


def route_template(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "path", UNMATCHED)


def instrument(app: FastAPI) -> None:
    instrumentator = Instrumentator(excluded_handlers=["/metrics"])
    instrumentator.add(metrics.latency(should_include_status=True))
    instrumentator.add(metrics.requests())
    instrumentator.instrument(app)

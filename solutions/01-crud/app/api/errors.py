"""Every error answers in one shape: problem details (RFC 9457).

Whatever went wrong and wherever it was raised, the client gets
`application/problem+json` with `status` (the HTTP status again), `title` (the same for
every error of that status) and `detail` (what happened this time). A 422 also lists
the offending fields under `errors`, an extension member the RFC allows.
"""

from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of this service answers them."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = None  # 422 only: each field and why


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` documenting these error statuses as problem+json."""
    schema = {"$ref": "#/components/schemas/Problem"}
    return {
        status: {
            "model": Problem,
            "description": HTTPStatus(status).phrase,
            "content": {"application/problem+json": {"schema": schema}},
        }
        for status in statuses
    }


def problem(
    status: int, detail: str, *, headers: dict[str, str] | None = None, **extensions: Any
) -> JSONResponse:
    body = {
        "type": "about:blank",  # no page documents our errors; about:blank says so
        # RFC 9110 names 422 "Unprocessable Content" (Python before 3.13 says "Entity").
        "title": "Unprocessable Content" if status == 422 else HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extensions,
    }
    return JSONResponse(
        body, status_code=status, headers=headers, media_type="application/problem+json"
    )


async def http_exception_handler(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    # Registered for Starlette's HTTPException, which FastAPI's extends, so it also
    # covers the 404 and 405 that routing raises before any route runs.
    headers = exc.headers
    if exc.status_code == 405:
        # The router's Allow names only the first route on this path (GET); the client
        # needs every method the path offers (RFC 9110, section 15.5.6).
        headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
    return problem(exc.status_code, str(exc.detail), headers=headers)


def allowed_methods(request: Request) -> list[str]:
    # Ask the routes which methods would fully match this path.
    return [
        method
        for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]


async def validation_exception_handler(
    request: Request, exc: RequestValidationError
) -> JSONResponse:
    # Only where and why: echoing the rejected input back could repeat a secret.
    errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    return problem(
        422, "The request is not valid: `errors` lists each field and why.", errors=errors
    )


async def unhandled_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    # The traceback goes to the server log (Starlette re-raises after we answer). The
    # client learns only that the fault is ours: SQL and stack traces help attackers
    # far more than they help a client.
    return problem(500, "Something went wrong on our side. Please try again later.")

"""Every error answers in one shape: problem details (RFC 9457).

Whatever went wrong and wherever it was raised, the client gets
`application/problem+json` with `status` (the HTTP status again), `title` (the same for
every error of that status) and `detail` (what happened this time). A 422 also lists
the offending fields under `errors`, an extension member the RFC allows.

`problems(404, 422)` documents those answers in a route's OpenAPI (`responses=`), so
clients (and tools that test against the OpenAPI) know every answer they can get.
"""

from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

PROBLEM_JSON = "application/problem+json"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None  # a 422's fields, and why each was refused


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with its `$defs` put in place: a `#/$defs/...` reference would point
    at the root of the OpenAPI document, where there are none."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return walk(defs[ref.removeprefix("#/$defs/")])
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses=` entry for these error statuses (always 422 too: any
    route with parameters or a body can refuse them)."""
    schema = _inlined(Problem.model_json_schema())
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {"schema": schema}},
        }
        for status in sorted({*statuses, 422})
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
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _allowed_methods(request: Request) -> str:
    """Every method served on this path: routing's own 405 names only the methods of
    the first route that matched the path, not those of the others on it."""
    allowed = []
    for method in METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return ", ".join(allowed)


async def http_exception_handler(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    # Registered for Starlette's HTTPException, which FastAPI's extends, so it also
    # covers the 404 and 405 that routing raises before any route runs.
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return problem(exc.status_code, str(exc.detail), headers=headers or None)


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

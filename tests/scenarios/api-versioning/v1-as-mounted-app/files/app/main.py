"""v1 as an app of its own, mounted at /v1: its own OpenAPI (/v1/openapi.json), its
own middleware (every answer of it is v1's, so every one is deprecated)."""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api import books, errors, health, v1, v2
from app.api.versioning import V1_HEADERS
from app.cursors import BadCursor
from app.services import CatalogError


def _error_handlers(api: FastAPI) -> None:
    api.add_exception_handler(CatalogError, errors.catalog_error_handler)
    api.add_exception_handler(BadCursor, errors.bad_cursor_handler)
    api.add_exception_handler(StarletteHTTPException, errors.http_exception_handler)
    api.add_exception_handler(RequestValidationError, errors.validation_exception_handler)
    api.add_exception_handler(Exception, errors.unhandled_exception_handler)


v1_app = FastAPI(title="Folio books v1", version="1.0.0")
v1_app.include_router(v1.router)
_error_handlers(v1_app)


@v1_app.middleware("http")
async def deprecated(request: Request, call_next):  # noqa: ANN001, ANN201
    response = await call_next(request)
    response.headers.update(V1_HEADERS)
    return response


app = FastAPI(title="Folio books", version="2.0.0")
app.include_router(health.router)
app.include_router(v2.router)
app.include_router(books.router)
_error_handlers(app)
app.mount("/v1", v1_app)

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api import books, errors, health, v1, v2
from app.api.versioning import DeprecationHeaders
from app.cursors import BadCursor
from app.services import CatalogError

app = FastAPI(title="Folio books", version="2.0.0")
app.include_router(health.router)
app.include_router(v1.router)
app.include_router(v2.router)
app.include_router(books.router)
app.add_middleware(DeprecationHeaders)
app.add_exception_handler(CatalogError, errors.catalog_error_handler)
app.add_exception_handler(BadCursor, errors.bad_cursor_handler)
app.add_exception_handler(StarletteHTTPException, errors.http_exception_handler)
app.add_exception_handler(RequestValidationError, errors.validation_exception_handler)
app.add_exception_handler(Exception, errors.unhandled_exception_handler)

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api import errors
from app.api.routes import books, health, recommendations, stats

app = FastAPI(title="Folio storefront")
app.include_router(health.router)
app.include_router(stats.router)
app.include_router(books.router)
app.include_router(recommendations.router)
app.add_exception_handler(StarletteHTTPException, errors.http_exception_handler)
app.add_exception_handler(RequestValidationError, errors.validation_exception_handler)
app.add_exception_handler(Exception, errors.unhandled_exception_handler)

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api import errors
from app.api.routes import authors, health, orders

# The schema and the shop's data come with the database: every run starts on a copy of
# Folio's catalog (300 authors, their books, the readers' reviews, 100 orders).
app = FastAPI(title="Folio authors")
app.include_router(health.router)
app.include_router(authors.router)
app.include_router(orders.router)
# Every error, whoever raised it, answers as problem details (app/api/errors.py).
app.add_exception_handler(StarletteHTTPException, errors.http_exception_handler)
app.add_exception_handler(RequestValidationError, errors.validation_exception_handler)
app.add_exception_handler(Exception, errors.unhandled_exception_handler)

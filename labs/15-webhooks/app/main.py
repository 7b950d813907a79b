from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api import errors
from app.api.routes import endpoints, health, merchants, orders, payments

app = FastAPI(title="Folio merchant API")
app.include_router(health.router)
app.include_router(merchants.router)
app.include_router(endpoints.router)
app.include_router(orders.router)
app.include_router(payments.router)
app.add_exception_handler(StarletteHTTPException, errors.http_exception_handler)
app.add_exception_handler(RequestValidationError, errors.validation_exception_handler)
app.add_exception_handler(Exception, errors.unhandled_exception_handler)

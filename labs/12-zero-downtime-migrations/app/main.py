from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api import errors
from app.api.routes import customers, health, orders

# v2 of Folio's customers service. It needs the schema as `alembic upgrade expand`
# leaves it (customers.full_name, orders.channel), and keeps working after
# `alembic upgrade contract`. v1, already released, runs beside it during the rollout.
app = FastAPI(title="Folio customers v2")
app.include_router(health.router)
app.include_router(customers.router)
app.include_router(orders.router)
# Every error, whoever raised it, answers as problem details (app/api/errors.py).
app.add_exception_handler(StarletteHTTPException, errors.http_exception_handler)
app.add_exception_handler(RequestValidationError, errors.validation_exception_handler)
app.add_exception_handler(Exception, errors.unhandled_exception_handler)

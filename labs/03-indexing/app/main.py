from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api import errors
from app.api.routes import customers, health, orders

# The schema comes from the migrations in migrations/ (applied by `lab check` before the
# service starts, or by `alembic upgrade head`), the data with the database: every run
# starts on a copy of Folio's order history (50 000 customers, a million orders).
app = FastAPI(title="Folio order history")
app.include_router(health.router)
app.include_router(customers.router)
app.include_router(orders.router)
# Every error, whoever raised it, answers as problem details (app/api/errors.py).
app.add_exception_handler(StarletteHTTPException, errors.http_exception_handler)
app.add_exception_handler(RequestValidationError, errors.validation_exception_handler)
app.add_exception_handler(Exception, errors.unhandled_exception_handler)

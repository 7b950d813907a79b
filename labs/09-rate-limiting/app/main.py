import logging

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api import errors
from app.api.routes import health, search

# One line per event, with its level, on the service's output (where `lab check` and
# any log collector read it).
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

# The catalogue and the partners' keys are in the database already (the lab's seed).
app = FastAPI(title="Folio catalogue search")
app.include_router(health.router)
app.include_router(search.router)
app.add_exception_handler(StarletteHTTPException, errors.http_exception_handler)
app.add_exception_handler(RequestValidationError, errors.validation_exception_handler)
app.add_exception_handler(Exception, errors.unhandled_exception_handler)

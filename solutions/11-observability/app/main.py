from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlmodel import Session, SQLModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import crud
from app.api import errors
from app.api.middleware import request_context
from app.api.routes import books, health, metrics, orders, users
from app.core.config import settings
from app.core.db import engine
from app.core.logging import setup_logging
from app.core.metrics import record_request
from app.core.tracing import setup_tracing

# Before anything logs: uvicorn has set up its own loggers already; this sets up ours.
setup_logging(settings.LOG_LEVEL)
setup_tracing(export=settings.OTEL_EXPORTER_OTLP_ENDPOINT is not None)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Every run starts on a fresh database, so creating the tables here is enough.
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        crud.seed_books(session=session)
    yield


# Our request middleware starts each request's span (app/core/tracing.py), where its id
# and its access line are made: FastAPI's own request spans would make a second one.
app = FastAPI(title="Folio orders", lifespan=lifespan, telemetry={"tracing": False})
for router in (health.router, metrics.router, books.router, users.router, orders.router):
    app.include_router(router)
app.add_exception_handler(StarletteHTTPException, errors.http_exception_handler)
app.add_exception_handler(RequestValidationError, errors.validation_exception_handler)
# The last middleware added runs first: request_context wraps record_request, so the
# metrics see the request's context, and request_context sees what the metrics let through.
app.middleware("http")(record_request)
app.middleware("http")(request_context)

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlmodel import SQLModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api import errors
from app.api.routes import books, health, orders, stock
from app.core.db import engine


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Every run starts on a fresh copy of Folio's catalog, so creating whatever tables
    # are missing is enough. A service with data to keep would run migrations instead.
    SQLModel.metadata.create_all(engine)
    yield


app = FastAPI(title="Folio storefront", lifespan=lifespan)
app.include_router(health.router)
app.include_router(books.router)
app.include_router(stock.router)
app.include_router(orders.router)
app.add_exception_handler(StarletteHTTPException, errors.http_exception_handler)
app.add_exception_handler(RequestValidationError, errors.validation_exception_handler)
app.add_exception_handler(Exception, errors.unhandled_exception_handler)

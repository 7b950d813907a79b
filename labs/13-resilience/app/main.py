from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlmodel import Session, SQLModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import crud
from app.api import errors
from app.api.routes import books, health, orders
from app.core.db import engine
from app.providers.errors import ProviderError


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Every run starts on a fresh database, so creating the tables here is enough.
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        crud.seed_books(session=session)
    yield


app = FastAPI(title="Folio shop", lifespan=lifespan)
app.include_router(health.router)
app.include_router(books.router)
app.include_router(orders.router)
app.add_exception_handler(StarletteHTTPException, errors.http_exception_handler)
app.add_exception_handler(RequestValidationError, errors.validation_exception_handler)
app.add_exception_handler(ProviderError, errors.provider_exception_handler)
app.add_exception_handler(Exception, errors.unhandled_exception_handler)

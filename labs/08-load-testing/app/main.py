from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlmodel import SQLModel

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

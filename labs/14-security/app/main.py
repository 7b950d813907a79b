from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api import errors
from app.api.routes import books, downloads, health, me, orders

app = FastAPI(title="Folio back office")
app.include_router(health.router)
app.include_router(books.router)
app.include_router(me.router)
app.include_router(orders.router)
app.include_router(downloads.router)
app.add_exception_handler(StarletteHTTPException, errors.http_exception_handler)
app.add_exception_handler(RequestValidationError, errors.validation_exception_handler)
app.add_exception_handler(Exception, errors.unhandled_exception_handler)

# The storefront (https://shop.folio.test) calls this API from the browser, signed in
# with its session cookie.
# TODO: any web page a signed-in customer visits can read their account through this
# API, with their cookie.
app.add_middleware(
    CORSMiddleware,
    allow_origins=["*"],
    allow_credentials=True,
    allow_methods=["*"],
    allow_headers=["*"],
)

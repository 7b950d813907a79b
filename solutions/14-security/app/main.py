from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api import errors
from app.api.routes import books, downloads, health, me, orders
from app.core.config import settings
from app.core.security import SecurityHeadersMiddleware

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
# Only that origin, exactly (scheme, host and port): with credentials allowed, every
# origin listed here can read a signed-in customer's answers (WHATWG Fetch, CORS).
app.add_middleware(
    CORSMiddleware,
    allow_origins=[settings.STOREFRONT_ORIGIN],
    allow_credentials=True,
    allow_methods=["GET", "POST", "PATCH"],
    allow_headers=["Content-Type", "Authorization"],
)
# Added last, so it is the outermost: preflight answers get the headers too.
app.add_middleware(SecurityHeadersMiddleware)

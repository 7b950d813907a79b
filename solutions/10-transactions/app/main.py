from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api import errors
from app.api.routes import checkout, coupons, health, wallets
from app.services import ShopError

app = FastAPI(title="Folio checkout")
app.include_router(health.router)
app.include_router(checkout.router)
app.include_router(wallets.router)
app.include_router(coupons.router)
app.add_exception_handler(ShopError, errors.shop_error_handler)
app.add_exception_handler(OperationalError, errors.lock_timeout_handler)
app.add_exception_handler(StarletteHTTPException, errors.http_exception_handler)
app.add_exception_handler(RequestValidationError, errors.validation_exception_handler)
app.add_exception_handler(Exception, errors.unhandled_exception_handler)

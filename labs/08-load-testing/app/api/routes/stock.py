from fastapi import APIRouter

from app.services import warehouse
from app.services.warehouse import Stock

router = APIRouter(prefix="/stock", tags=["stock"])


# TODO: one customer checking stock is quick; twenty at once wait in line, one
# after another, as if the service could only ever do one thing at a time.
@router.get("/{isbn}", response_model=Stock)
async def read_stock(isbn: str) -> Stock:
    return warehouse.stock_level(isbn)

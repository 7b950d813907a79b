from fastapi import APIRouter

from app.services import warehouse
from app.services.warehouse import Stock

router = APIRouter(prefix="/stock", tags=["stock"])


# An async route runs on the event loop itself: it must await slow calls, never block
# on them, or every other request waits. (A plain `def` route would also do: FastAPI
# runs those in a thread pool.)
@router.get("/{isbn}", response_model=Stock)
async def read_stock(isbn: str) -> Stock:
    return await warehouse.stock_level_async(isbn)

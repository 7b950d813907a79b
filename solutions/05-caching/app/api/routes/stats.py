from fastapi import APIRouter

from app import services
from app.api.deps import SessionDep
from app.core import cache
from app.models import ShopStats

router = APIRouter(tags=["stats"])


@router.get("/stats", response_model=ShopStats)
def shop_stats(session: SessionDep):
    # The staff dashboard polls this every few seconds; a year of sales changes slowly,
    # so an answer up to CACHE_TTL_SECONDS old is fine (the README says so).
    return cache.cached("stats", lambda: services.shop_stats(session=session).model_dump())

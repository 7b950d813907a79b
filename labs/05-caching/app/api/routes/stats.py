from fastapi import APIRouter

from app import services
from app.api.deps import SessionDep
from app.models import ShopStats

router = APIRouter(tags=["stats"])


@router.get("/stats", response_model=ShopStats)
def shop_stats(session: SessionDep):
    # TODO: the staff dashboard polls this every few seconds, and every visit re-reads
    # a whole year of sales: the database is busy all day with the same question.
    return services.shop_stats(session=session)

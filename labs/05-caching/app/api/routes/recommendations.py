from fastapi import APIRouter

from app import services
from app.api.deps import CustomerId, SessionDep
from app.api.errors import problems
from app.core import cache
from app.models import Recommendations

router = APIRouter(tags=["recommendations"])


@router.get("/recommendations", response_model=Recommendations, responses=problems())
def recommendations(customer_id: CustomerId, session: SessionDep):
    # TODO: customers report "recommended for you" lists that are clearly someone
    # else's, and a shared proxy in front of us could keep one customer's list for all.
    return cache.cached(
        "recommendations",
        lambda: services.recommendations(session=session, customer_id=customer_id).model_dump(),
    )

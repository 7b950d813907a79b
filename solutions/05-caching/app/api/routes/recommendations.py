from fastapi import APIRouter, Response

from app import services
from app.api.deps import CustomerId, SessionDep
from app.api.errors import problems
from app.core import cache
from app.models import Recommendations

router = APIRouter(tags=["recommendations"])


@router.get("/recommendations", response_model=Recommendations, responses=problems())
def recommendations(customer_id: CustomerId, session: SessionDep, response: Response):
    # One customer's answer: ours is keyed by the customer, and shared caches on the
    # way (a CDN, a company proxy) must not keep it at all (RFC 9111, section 5.2.2.7).
    response.headers["Cache-Control"] = "private, max-age=60"
    return cache.cached(
        f"recommendations:customer:{customer_id}",
        lambda: services.recommendations(session=session, customer_id=customer_id).model_dump(),
    )

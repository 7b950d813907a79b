from fastapi import APIRouter, Path, status

from app import services
from app.api.errors import problems
from app.models import RedeemRequest, RedemptionPublic

router = APIRouter(prefix="/coupons", tags=["coupons"])


@router.post(
    "/{code}/redeem",
    status_code=status.HTTP_201_CREATED,
    response_model=RedemptionPublic,
    responses=problems(404, 409, 503),
)
def redeem(body: RedeemRequest, code: str = Path(min_length=1, max_length=40)) -> RedemptionPublic:
    redemption, coupon = services.redeem(code=code, wallet_id=body.wallet_id)
    return RedemptionPublic(
        id=redemption.id,
        coupon_code=redemption.coupon_code,
        wallet_id=redemption.wallet_id,
        credit_cents=coupon.credit_cents,
    )

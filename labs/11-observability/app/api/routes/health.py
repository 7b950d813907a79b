from fastapi import APIRouter

router = APIRouter(prefix="/health", tags=["health"])


# TODO: when Redis went down last night, the load balancer kept sending customers to
# us, and every login failed until someone restarted Redis by hand.
@router.get("/live")
@router.get("/ready")
def health() -> dict[str, str]:
    return {"status": "ok"}

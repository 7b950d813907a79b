from fastapi import APIRouter

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> dict[str, str]:
    # Touches neither the database nor Redis: it says the process is up and serving.
    return {"status": "ok"}

from fastapi import APIRouter

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> dict[str, str]:
    # Answers without touching the database: the process is up and serving.
    return {"status": "ok"}

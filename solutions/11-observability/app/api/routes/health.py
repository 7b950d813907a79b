"""Two probes, two questions (Kubernetes liveness and readiness probes).

Live: is this process able to serve at all? If not, restart it. It checks nothing
outside the process: restarting us would not bring Redis back.
Ready: can it serve requests now? If not, send traffic elsewhere until it can. It
checks what every request needs, each within a short timeout, so the probe answers
within its deadline even when a dependency hangs.
"""

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.core import redis
from app.core.db import engine

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live")
def live() -> dict[str, str]:
    return {"status": "ok"}


def _database_ok() -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def _redis_ok() -> bool:
    try:
        return bool(redis.probe.ping())
    except Exception:
        return False


@router.get("/ready", responses={503: {"description": "Not ready: a dependency is down"}})
def ready() -> JSONResponse:
    checks = {"database": _database_ok(), "redis": _redis_ok()}
    ok = all(checks.values())
    body = {
        "status": "ok" if ok else "unavailable",
        "checks": {name: "ok" if up else "down" for name, up in checks.items()},
    }
    return JSONResponse(body, status_code=200 if ok else 503)

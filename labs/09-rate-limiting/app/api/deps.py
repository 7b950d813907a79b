from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, Response, status
from redis import Redis
from sqlmodel import Session, select

from app import ratelimit
from app.core.db import get_session
from app.core.redis import get_redis
from app.models import Partner

SessionDep = Annotated[Session, Depends(get_session)]
RedisDep = Annotated[Redis, Depends(get_redis)]


def client_address(request: Request) -> str:
    """The address of whoever called us.

    We run behind one reverse proxy, which appends the address it saw to
    X-Forwarded-For: `X-Forwarded-For: <what the client sent>, <the proxy's hop>`.
    """
    forwarded = ",".join(request.headers.getlist("x-forwarded-for"))
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if hops:
        # TODO: a scraper that sends a new X-Forwarded-For on every search is never limited.
        return hops[0]
    # Called directly, not through the proxy (on a developer's machine).
    return request.client.host if request.client else "unknown"


def get_caller(
    request: Request,
    session: SessionDep,
    api_key: Annotated[str | None, Header(alias="X-API-Key")] = None,
) -> str:
    """Who the quota is counted for: a partner by its API key, anyone else by address."""
    if api_key is None:
        return f"address:{client_address(request)}"
    partner = session.exec(select(Partner).where(Partner.api_key == api_key)).first()
    if partner is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="Unknown API key.")
    return f"partner:{partner.id}"


Caller = Annotated[str, Depends(get_caller)]


def enforce_quota(caller: Caller, redis: RedisDep, response: Response) -> None:
    """Counts this request against the caller's quota; refuses it with 429 when spent."""
    decision = ratelimit.hit(redis, caller)
    headers = ratelimit.headers(decision)
    if not decision.allowed:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"You may search {ratelimit.QUOTA} times per {ratelimit.WINDOW_S} seconds. "
            "Retry-After says when to try again.",
            headers={**headers, "Retry-After": str(decision.retry_after)},
        )
    # TODO: partners say they can't see how many searches they have left until they are refused.

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session, select

from app.core.db import get_session
from app.models import Merchant

SessionDep = Annotated[Session, Depends(get_session)]

bearer = HTTPBearer(auto_error=False, description="The merchant's API key")


def current_merchant(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Merchant:
    """The merchant whose API key came as `Authorization: Bearer <key>`."""
    if credentials is not None:
        merchant = session.exec(
            select(Merchant).where(Merchant.api_key == credentials.credentials)
        ).first()
        if merchant is not None:
            return merchant
    raise HTTPException(401, "Send your API key as Authorization: Bearer <key>.",
                        headers={"WWW-Authenticate": "Bearer"})  # fmt: skip


MerchantDep = Annotated[Merchant, Depends(current_merchant)]


async def raw_body(request: Request) -> bytes:
    """The request's body, byte for byte, as it arrived."""
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]

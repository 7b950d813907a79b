from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from redis import Redis
from sqlmodel import Session

from app.core.config import settings
from app.core.db import get_session
from app.core.redis import get_redis

SessionDep = Annotated[Session, Depends(get_session)]
RedisDep = Annotated[Redis, Depends(get_redis)]

bearer = HTTPBearer(auto_error=False)


def get_client_id(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    client_id = settings.API_KEYS.get(credentials.credentials) if credentials else None
    if client_id is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="Send your API key: Authorization: Bearer <key>.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return client_id


ClientId = Annotated[str, Depends(get_client_id)]

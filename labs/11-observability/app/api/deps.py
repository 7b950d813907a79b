from typing import Annotated

from fastapi import Depends, HTTPException, Path
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from app.core import redis
from app.core.db import get_session
from app.core.security import token_key
from app.models import PG_INT_MAX, User

SessionDep = Annotated[Session, Depends(get_session)]

# Ids in paths fit PostgreSQL's `integer`: a larger one is a 422, never the database's error.
BookId = Annotated[int, Path(gt=0, le=PG_INT_MAX)]

bearer = HTTPBearer(auto_error=False)


def current_user(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    unauthorized = HTTPException(
        401, detail="Log in first: send `Authorization: Bearer <token>`.",
        headers={"WWW-Authenticate": "Bearer"},
    )  # fmt: skip
    if credentials is None:
        raise unauthorized
    user_id = redis.sessions.get(token_key(credentials.credentials))
    user = session.get(User, int(user_id)) if user_id else None
    if user is None:
        raise unauthorized
    return user


CurrentUser = Annotated[User, Depends(current_user)]

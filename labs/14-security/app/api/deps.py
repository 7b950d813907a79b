from typing import Annotated

from fastapi import Cookie, Depends, HTTPException, Path, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from app.core.db import get_session
from app.core.security import token_digest
from app.models import PG_INT_MAX, User, UserSession

SessionDep = Annotated[Session, Depends(get_session)]

# Ids in paths fit PostgreSQL's `integer`: a larger one is a 422, never the database's error.
BookId = Annotated[int, Path(gt=0, le=PG_INT_MAX)]

# The storefront signs in with the `session` cookie; API clients send the same token as
# `Authorization: Bearer <token>`. auto_error=False: we answer a missing one ourselves.
bearer = HTTPBearer(auto_error=False)
CredentialsDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def get_current_user(
    session: SessionDep,
    credentials: CredentialsDep,
    session_cookie: Annotated[str | None, Cookie(alias="session")] = None,
) -> User:
    token = credentials.credentials if credentials is not None else session_cookie
    if not token:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="Sign in first: POST /login gives a session token.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    found = session.get(UserSession, token_digest(token))
    user = session.get(User, found.user_id) if found is not None else None
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="The session token is not valid.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_current_admin(user: CurrentUser) -> User:
    if not user.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="Only staff may do this.")
    return user


CurrentAdmin = Annotated[User, Depends(get_current_admin)]

from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from app.core.db import get_session
from app.core.security import decode_access_token
from app.models import User

SessionDep = Annotated[Session, Depends(get_session)]

# auto_error=False: we answer a missing token ourselves, in our own error shape.
bearer = HTTPBearer(auto_error=False)
CredentialsDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


# TODO: a client told "401" has no way to learn how to authenticate, or whether its
# token was missing or bad.
def unauthorized(detail: str, *, error: str | None = None) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail)


def get_current_user(session: SessionDep, credentials: CredentialsDep) -> User:
    if credentials is None:
        raise unauthorized("This needs an access token: Authorization: Bearer <token>.")
    try:
        claims = decode_access_token(credentials.credentials)
        user_id = int(claims["sub"])
    except (jwt.InvalidTokenError, KeyError, ValueError):
        raise unauthorized("The access token is not valid.", error="invalid_token") from None
    # The user is read on every request: a deleted account or a changed role takes
    # effect at once, not when the token expires.
    user = session.get(User, user_id)
    if user is None:
        raise unauthorized("The access token is not valid.", error="invalid_token")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_current_moderator(user: CurrentUser) -> User:
    if user.role != "moderator":
        # Authenticated, but not allowed: 403, and no WWW-Authenticate (RFC 9110 15.5.4).
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="Only moderators may do this.")
    return user


CurrentModerator = Annotated[User, Depends(get_current_moderator)]

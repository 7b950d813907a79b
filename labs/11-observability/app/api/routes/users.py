import logging

from fastapi import APIRouter, HTTPException, status
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from app.api.deps import SessionDep
from app.api.errors import problems
from app.core import redis
from app.core.config import settings
from app.core.security import hash_password, new_token, token_key, verify_password
from app.models import Login, Token, User, UserCreate, UserPublic

router = APIRouter(tags=["users"])
log = logging.getLogger("app.users")


@router.post(
    "/users", status_code=status.HTTP_201_CREATED, response_model=UserPublic,
    responses=problems(409),
)  # fmt: skip
def register(session: SessionDep, user_in: UserCreate) -> User:
    user = User(email=user_in.email.lower(), password_hash=hash_password(user_in.password))
    session.add(user)
    try:
        session.commit()
    except IntegrityError:
        raise HTTPException(409, detail="An account with this email already exists.") from None
    session.refresh(user)
    log.info("Account created", extra={"user_id": user.id})
    return user


@router.post("/login", response_model=Token, responses=problems(401))
def login(session: SessionDep, credentials: Login) -> Token:
    user = session.exec(select(User).where(User.email == credentials.email.lower())).first()
    if user is None or not verify_password(credentials.password, user.password_hash):
        log.info("Login refused", extra={"reason": "bad credentials"})
        raise HTTPException(401, detail="Wrong email or password.")
    token = new_token()
    redis.sessions.set(token_key(token), user.id, ex=settings.SESSION_TTL_SECONDS)
    log.info("Logged in", extra={"user_id": user.id})
    return Token(access_token=token)

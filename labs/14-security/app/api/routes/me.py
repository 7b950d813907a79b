from fastapi import APIRouter, HTTPException, Response
from sqlmodel import select

from app.api.deps import CurrentUser, SessionDep
from app.api.errors import problems
from app.core.security import new_token, secure, token_digest, verify_password
from app.models import LoginIn, User, UserPublic, UserSession, UserUpdate

router = APIRouter(tags=["account"])


@router.post("/login", responses=problems(401))
def login(credentials: LoginIn, session: SessionDep, response: Response) -> dict[str, str]:
    """A session token, also set as the `session` cookie (what the storefront uses)."""
    user = session.exec(select(User).where(User.email == credentials.email)).first()
    if user is None or not verify_password(credentials.password, user.password_hash):
        raise HTTPException(401, detail="Wrong email or password.")
    token = new_token()
    session.add(UserSession(token_sha256=token_digest(token), user_id=user.id))
    session.commit()
    response.set_cookie("session", token, httponly=True, secure=True, samesite="lax")
    secure(response, private=True)
    return {"token": token}


@router.get("/me", response_model=UserPublic, responses=problems(401))
def read_me(user: CurrentUser, response: Response) -> User:
    secure(response, private=True)
    return user


@router.patch("/me", response_model=UserPublic, responses=problems(401))
def update_me(
    user_in: UserUpdate, user: CurrentUser, session: SessionDep, response: Response
) -> User:
    """Change your display name or bio."""
    user.sqlmodel_update(user_in.model_dump(exclude_unset=True))
    session.add(user)
    session.commit()
    session.refresh(user)
    secure(response, private=True)
    return user

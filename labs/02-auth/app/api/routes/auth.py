from fastapi import APIRouter, HTTPException, status

from app import crud
from app.api.deps import SessionDep, unauthorized
from app.api.errors import problem_responses
from app.core import security
from app.core.config import settings
from app.models import Login, RefreshRequest, TokenPair, UserPublic, UserRegister

router = APIRouter(prefix="/auth", tags=["auth"], responses=problem_responses(422))


def _token_pair(
    *, session: SessionDep, user_id: int, refresh_token: str | None = None
) -> TokenPair:
    return TokenPair(
        access_token=security.create_access_token(user_id=user_id),
        refresh_token=refresh_token or crud.issue_refresh_token(session=session, user_id=user_id),
        expires_in=settings.ACCESS_TOKEN_MINUTES * 60,
    )


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserPublic,
    responses=problem_responses(409),
)
def register(session: SessionDep, user_in: UserRegister):
    try:
        return crud.create_user(session=session, user_in=user_in)
    except crud.EmailTakenError:
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail="An account with this email already exists."
        ) from None


@router.post("/login", response_model=TokenPair, responses=problem_responses(401, 404))
def login(session: SessionDep, body: Login):
    try:
        user = crud.authenticate(session=session, email=body.email, password=body.password)
    except crud.UnknownEmailError:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail="There is no account with this email."
        ) from None
    if user is None:
        raise unauthorized("Wrong password.")
    assert user.id is not None
    return _token_pair(session=session, user_id=user.id)


@router.post("/refresh", response_model=TokenPair, responses=problem_responses(401))
def refresh(session: SessionDep, body: RefreshRequest):
    rotated = crud.rotate_refresh_token(session=session, token=body.refresh_token)
    if rotated is None:
        raise unauthorized("The refresh token is not valid: log in again.", error="invalid_token")
    user_id, new_refresh = rotated
    return _token_pair(session=session, user_id=user_id, refresh_token=new_refresh)

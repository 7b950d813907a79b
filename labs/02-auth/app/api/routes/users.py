from fastapi import APIRouter

from app.api.deps import CurrentUser
from app.api.errors import problem_responses
from app.models import UserPublic

router = APIRouter(prefix="/users", tags=["users"], responses=problem_responses(401))


@router.get("/me", response_model=UserPublic)
def read_me(user: CurrentUser):
    return user

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Response, status

from app import crud
from app.api.deps import CurrentModerator, CurrentUser, SessionDep
from app.api.errors import problem_responses
from app.models import Review, ReviewCreate, ReviewPublic, ReviewUpdate

# Every operation documents its errors (problem+json).
router = APIRouter(prefix="/reviews", tags=["reviews"], responses=problem_responses(401, 422))
moderation = APIRouter(
    prefix="/moderation", tags=["moderation"], responses=problem_responses(401, 403, 404, 422)
)

# Ids are PostgreSQL integers: a larger number is no review (a 422 says the id is out of
# range) rather than a query the database refuses (a 500).
ReviewId = Annotated[int, Path(ge=1, le=2_147_483_647)]


def get_own_review(session: SessionDep, user: CurrentUser, review_id: ReviewId) -> Review:
    review = crud.get_review(session=session, review_id=review_id, owner_id=user.id)
    if review is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"You have no review {review_id}.")
    return review


OwnReview = Annotated[Review, Depends(get_own_review)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ReviewPublic)
def create_review(session: SessionDep, user: CurrentUser, review_in: ReviewCreate):
    assert user.id is not None
    return crud.create_review(session=session, review_in=review_in, owner_id=user.id)


@router.get("", response_model=list[ReviewPublic])
def list_my_reviews(session: SessionDep, user: CurrentUser):
    assert user.id is not None
    return crud.list_reviews(session=session, owner_id=user.id)


@router.get("/{review_id}", response_model=ReviewPublic, responses=problem_responses(404))
def read_review(review: OwnReview):
    return review


@router.patch("/{review_id}", response_model=ReviewPublic, responses=problem_responses(404))
def update_review(session: SessionDep, review: OwnReview, review_in: ReviewUpdate):
    return crud.update_review(session=session, review=review, review_in=review_in)


@router.delete(
    "/{review_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(404)
)
def delete_review(session: SessionDep, review: OwnReview) -> Response:
    crud.delete_review(session=session, review=review)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@moderation.post("/reviews/{review_id}/publish", response_model=ReviewPublic)
def publish_review(session: SessionDep, moderator: CurrentModerator, review_id: ReviewId):
    review = crud.publish_review(session=session, review_id=review_id)
    if review is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"There is no review {review_id}.")
    return review

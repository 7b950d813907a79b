from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response, status

from app import crud
from app.api.deps import CurrentModerator, CurrentUser, SessionDep
from app.models import Review, ReviewCreate, ReviewPublic, ReviewUpdate

router = APIRouter(prefix="/reviews", tags=["reviews"])
moderation = APIRouter(prefix="/moderation", tags=["moderation"])


def get_own_review(session: SessionDep, user: CurrentUser, review_id: int) -> Review:
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


@router.get("/{review_id}", response_model=ReviewPublic)
def read_review(review: OwnReview):
    return review


@router.patch("/{review_id}", response_model=ReviewPublic)
def update_review(session: SessionDep, review: OwnReview, review_in: ReviewUpdate):
    return crud.update_review(session=session, review=review, review_in=review_in)


@router.delete("/{review_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_review(session: SessionDep, review: OwnReview) -> Response:
    crud.delete_review(session=session, review=review)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@moderation.post("/reviews/{review_id}/publish", response_model=ReviewPublic)
def publish_review(session: SessionDep, moderator: CurrentModerator, review_id: int):
    review = crud.publish_review(session=session, review_id=review_id)
    if review is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"There is no review {review_id}.")
    return review

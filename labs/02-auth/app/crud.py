from collections.abc import Sequence
from datetime import timedelta

from sqlmodel import Session, col, select, update

from app.core import security
from app.core.config import settings
from app.models import (
    RefreshToken,
    Review,
    ReviewCreate,
    ReviewUpdate,
    User,
    UserRegister,
    utc_now,
)


class EmailTakenError(Exception):
    pass


class UnknownEmailError(Exception):
    pass


def get_user_by_email(*, session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email.lower())).first()


def create_user(*, session: Session, user_in: UserRegister) -> User:
    if get_user_by_email(session=session, email=user_in.email):
        raise EmailTakenError
    user = User.model_validate(
        user_in,
        update={
            "email": user_in.email.lower(),
            "hashed_password": security.hash_password(user_in.password),
        },
    )
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


def authenticate(*, session: Session, email: str, password: str) -> User | None:
    """The user with this email and password, or None."""
    user = get_user_by_email(session=session, email=email)
    if user is None:
        # Saves the work of hashing a password for nobody.
        raise UnknownEmailError
    if not security.verify_password(password, user.hashed_password):
        return None
    return user


# ---------------------------------------------------------------- refresh tokens


def issue_refresh_token(*, session: Session, user_id: int, family=None) -> str:
    token = security.new_refresh_token()
    stored = RefreshToken(
        token_digest=security.digest(token),
        user_id=user_id,
        expires_at=utc_now() + timedelta(days=settings.REFRESH_TOKEN_DAYS),
    )
    if family is not None:
        stored.family = family
    session.add(stored)
    session.commit()
    return token


def rotate_refresh_token(*, session: Session, token: str) -> tuple[int, str] | None:
    """Trades a refresh token for a new one: (user id, new token), or None if refused."""
    stored = session.exec(
        select(RefreshToken).where(RefreshToken.token_digest == security.digest(token))
    ).first()
    if stored is None or stored.revoked or stored.expires_at < utc_now():
        return None
    # TODO: a refresh token copied off a stolen phone keeps working, even after its
    # owner has used it.
    return stored.user_id, issue_refresh_token(
        session=session, user_id=stored.user_id, family=stored.family
    )


def revoke_family(*, session: Session, family) -> None:
    session.exec(
        update(RefreshToken).where(col(RefreshToken.family) == family).values(revoked=True)
    )


# ---------------------------------------------------------------- reviews


def create_review(*, session: Session, review_in: ReviewCreate, owner_id: int) -> Review:
    review = Review.model_validate(review_in, update={"owner_id": owner_id})
    session.add(review)
    session.commit()
    session.refresh(review)
    return review


# TODO: anyone logged in can read, change or delete anybody's draft.
def get_review(*, session: Session, review_id: int, owner_id: int) -> Review | None:
    return session.get(Review, review_id)


def list_reviews(*, session: Session, owner_id: int) -> Sequence[Review]:
    statement = select(Review).where(Review.owner_id == owner_id).order_by(Review.id)
    return session.exec(statement).all()


def update_review(*, session: Session, review: Review, review_in: ReviewUpdate) -> Review:
    review.sqlmodel_update(review_in.model_dump(exclude_unset=True))
    session.add(review)
    session.commit()
    session.refresh(review)
    return review


def delete_review(*, session: Session, review: Review) -> None:
    session.delete(review)
    session.commit()


def publish_review(*, session: Session, review_id: int) -> Review | None:
    review = session.get(Review, review_id)
    if review is None:
        return None
    review.published = True
    session.add(review)
    session.commit()
    session.refresh(review)
    return review

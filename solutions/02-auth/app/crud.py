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


class AccountLockedError(Exception):
    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after


# Guessing passwords is slowed per account, not per client address: an attacker has
# many addresses, a victim has one account (OWASP Authentication Cheat Sheet).
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(seconds=60)


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
    """The user with this email and password, or None (whichever of the two was wrong).

    Raises AccountLockedError while the account is locked after too many failures."""
    user = get_user_by_email(session=session, email=email)
    if user is None:
        # Hash anyway: an unknown email must take as long as a wrong password, or the
        # time of the answer tells an attacker which emails have accounts.
        security.verify_password(password, security.DUMMY_HASH)
        return None
    now = utc_now()
    if user.locked_until is not None and user.locked_until > now:
        raise AccountLockedError(retry_after=int((user.locked_until - now).total_seconds()) + 1)
    if not security.verify_password(password, user.hashed_password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.failed_logins, user.locked_until = 0, now + LOCKOUT
        session.add(user)
        session.commit()
        return None
    if user.failed_logins:
        user.failed_logins = 0
        session.add(user)
        session.commit()
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
    # FOR UPDATE: two requests trading in the same token at once queue here, and the
    # second sees the first one's used_at, instead of both passing the check below.
    stored = session.exec(
        select(RefreshToken)
        .where(RefreshToken.token_digest == security.digest(token))
        .with_for_update()
    ).first()
    if stored is None or stored.revoked or stored.expires_at < utc_now():
        return None
    if stored.used_at is not None:
        # Used before: two parties hold this token, and we can't tell which one is the
        # thief. Revoke the whole family, so both must log in again (RFC 9700 4.14.2).
        revoke_family(session=session, family=stored.family)
        session.commit()
        return None
    stored.used_at = utc_now()
    session.add(stored)
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


def get_review(*, session: Session, review_id: int, owner_id: int) -> Review | None:
    # The owner is part of the lookup: someone else's review is "not found", so ids
    # can't be probed to learn which reviews exist (OWASP API1:2023, BOLA).
    statement = select(Review).where(Review.id == review_id, Review.owner_id == owner_id)
    return session.exec(statement).first()


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

import uuid
from datetime import UTC, datetime
from typing import Annotated, Self

from pydantic import AfterValidator, model_validator
from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel


def utc_now() -> datetime:
    return datetime.now(UTC)


class UserBase(SQLModel):
    email: str = Field(unique=True, index=True, min_length=3, max_length=255)


# What a client may send to register: no role. A role is granted by a moderator, never
# claimed in a request body (OWASP API3:2023, mass assignment).
class UserRegister(UserBase):
    password: str = Field(min_length=8, max_length=128)


class User(UserBase, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    role: str = Field(default="reader", description="reader or moderator")
    hashed_password: str
    # Failed logins since the last success; enough of them lock the account a while.
    failed_logins: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))


class UserPublic(SQLModel):
    id: int
    email: str
    role: str


class Login(SQLModel):
    email: str
    password: str


class RefreshRequest(SQLModel):
    refresh_token: str


class TokenPair(SQLModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int  # seconds the access token is valid


class RefreshToken(SQLModel, table=True):
    __tablename__ = "refresh_tokens"

    id: int | None = Field(default=None, primary_key=True)
    token_digest: str = Field(unique=True, index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    # Every token rotated from one login shares its family: a replayed token revokes it.
    family: uuid.UUID = Field(default_factory=uuid.uuid4, index=True)
    expires_at: datetime = Field(sa_type=DateTime(timezone=True))
    used_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    revoked: bool = False


def _no_nul(text: str | None) -> str | None:
    # PostgreSQL cannot store a NUL character in text: refused here, it is a 422 for the
    # client instead of a database error (a 500).
    if text is not None and "\x00" in text:
        raise ValueError("must not contain a NUL character")
    return text


Text = Annotated[str, AfterValidator(_no_nul)]


class ReviewBase(SQLModel):
    book_title: Text = Field(min_length=1, max_length=255)
    rating: int = Field(ge=1, le=5)
    body: Text = Field(default="", max_length=10_000)


class ReviewCreate(ReviewBase):
    pass


class ReviewUpdate(SQLModel):
    book_title: Text | None = Field(default=None, min_length=1, max_length=255)
    rating: int | None = Field(default=None, ge=1, le=5)
    body: Text | None = Field(default=None, max_length=10_000)

    @model_validator(mode="after")
    def _no_nulls(self) -> Self:
        # A field left out stays as it is; every review has a title, a rating and a
        # body, so none of them can be sent as null.
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class Review(ReviewBase, table=True):
    __tablename__ = "reviews"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="users.id", index=True)
    # A draft until a moderator publishes it; until then only its author sees it.
    published: bool = False


class ReviewPublic(ReviewBase):
    id: int
    owner_id: int
    published: bool

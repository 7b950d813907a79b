"""Passwords and tokens: the only module that knows how either is made."""

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.core.config import settings

ALGORITHM = "EdDSA"

# argon2id with OWASP's minimum (19 MiB of memory, 2 passes, 1 lane): every guess costs
# an attacker that memory and time. Each hash gets its own random salt, and the
# parameters are stored in the hash, so raising them later still verifies old hashes.
password_hash = PasswordHash((Argon2Hasher(memory_cost=19456, time_cost=2, parallelism=1),))


def hash_password(password: str) -> str:
    return password_hash.hash(password)


def verify_password(password: str, hashed: str) -> bool:
    return password_hash.verify(password, hashed)


# A hash of a password nobody has: verifying against it when an email is unknown takes
# as long as a real check, so the time of an answer doesn't tell who has an account.
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


@cache
def _private_key() -> bytes:
    return settings.JWT_PRIVATE_KEY_FILE.read_bytes()


@cache
def _public_key() -> bytes:
    return settings.JWT_PUBLIC_KEY_FILE.read_bytes()


def create_access_token(*, user_id: int) -> str:
    now = datetime.now(UTC)
    claims = {
        "iss": settings.JWT_ISSUER,
        "aud": settings.JWT_AUDIENCE,
        "sub": str(user_id),
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=settings.ACCESS_TOKEN_MINUTES),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, _private_key(), algorithm=ALGORITHM)


def decode_access_token(token: str) -> dict[str, Any]:
    """The claims of a valid access token; raises jwt.InvalidTokenError otherwise."""
    return jwt.decode(
        token,
        key=_public_key(),
        algorithms=[ALGORITHM],
        audience=settings.JWT_AUDIENCE,
        issuer=settings.JWT_ISSUER,
        # Our algorithm, never the one the token's header names (RFC 8725, section 3.1);
        # the signature, expiry, start, audience and issuer are all checked.
        options={"require": ["exp", "nbf", "iat", "sub", "aud", "iss"]},
        # A little slack for clocks that drift between servers (RFC 7519, section 4.1.4).
        leeway=5,
    )


def new_refresh_token() -> str:
    # Opaque and random: only its digest is stored, so a copy of the table can't be
    # replayed. 32 random bytes need no slow hash, unlike a password.
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()

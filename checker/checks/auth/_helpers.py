"""Helpers for the auth checks: accounts, tokens the checks forge, answers worded for
the learner.

The service is reached over HTTP only; the users table is read with the run's own
connection. Tokens are forged here the way an attacker (or a clock) would make them:
signed with the development key pair in the learner's keys/ folder (which the README
documents), with no signature at all, or with the public key as an HMAC secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt

from checker.people import People

ISSUER = "folio-auth"
AUDIENCE = "folio-api"


def fail(message: str) -> None:
    raise AssertionError(message)


def said(response: httpx.Response) -> str:
    # RFC 9110's name for 422, whatever the server's (older) reason phrase says.
    phrase = "Unprocessable Content" if response.status_code == 422 else response.reason_phrase
    return f"{response.status_code} {phrase or ''}".strip()


def request_line(response: httpx.Response) -> str:
    request = response.request
    return f"{request.method} {request.url.raw_path.decode()}"


def json_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        snippet = response.text[:80].strip() or "an empty body"
        fail(
            f"{request_line(response)} answered {said(response)} with a body that is not "
            f"JSON ({snippet!r}); expected a JSON document."
        )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Account:
    """One registered user: email, password, id, and its latest tokens."""

    def __init__(self, email: str, password: str, user_id: int) -> None:
        self.email, self.password, self.id = email, password, user_id
        self.access_token = ""
        self.refresh_token = ""

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.access_token)


class Accounts:
    """Register and log in, failing with a message the learner can act on. Every account
    gets an email and a password of its own, drawn per run (``checker.people``): no
    value marks an account as the checks' own."""

    def __init__(self, http: httpx.Client, people: People) -> None:
        self.http, self.people = http, people

    def register(
        self, password: str | None = None, **extra: Any
    ) -> tuple[httpx.Response, str, str]:
        """(the answer, the email, the password) of a new registration."""
        email, password = self.people.email(), password or self.people.password()
        response = self.http.post(
            "/auth/register", json={"email": email, "password": password, **extra}
        )
        return response, email, password

    def login_response(self, email: str, password: str) -> httpx.Response:
        return self.http.post("/auth/login", json={"email": email, "password": password})

    def create(self, *, login: bool = True) -> Account:
        """A new account, logged in unless ``login`` is false (each login costs a hash)."""
        response, email, password = self.register()
        if not response.is_success:
            fail(
                f"POST /auth/register with a new email answered {said(response)}; this "
                "check needs to create accounts first, so registering must work (201)."
            )
        body = json_of(response)
        if not isinstance(body, dict) or not isinstance(body.get("id"), int):
            fail("POST /auth/register did not answer the new user with its id; expected it.")
        account = Account(email, password, body["id"])
        return self.login(account) if login else account

    def login(self, account: Account) -> Account:
        response = self.login_response(account.email, account.password)
        if response.status_code != 200:
            fail(
                f"POST /auth/login with the right email and password answered "
                f"{said(response)}; expected 200 OK with an access and a refresh token."
            )
        body = json_of(response)
        if not isinstance(body, dict) or not body.get("access_token"):
            fail("POST /auth/login did not answer an access_token; expected one.")
        account.access_token = body["access_token"]
        account.refresh_token = body.get("refresh_token") or ""
        return account


# ---------------------------------------------------------------- forged tokens


class Keys:
    """The development key pair in the learner's keys/ folder."""

    def __init__(self, workspace: Path) -> None:
        folder = workspace / "keys"
        try:
            self.private = (folder / "dev-private.pem").read_bytes()
            self.public = (folder / "dev-public.pem").read_bytes()
        except FileNotFoundError:
            fail(
                "keys/dev-private.pem or keys/dev-public.pem is missing. The checks sign "
                "tokens of their own with the development key pair (see the README), so "
                "keep it in keys/ and have the service use it outside production."
            )


def claims_for(user_id: int, **changes: Any) -> dict[str, Any]:
    """Valid claims for an access token of ``user_id``; ``changes`` override (None drops)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(user_id),
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def signed(keys: Keys, claims: dict[str, Any]) -> str:
    """Signed as the service signs (EdDSA with the development private key)."""
    return jwt.encode(claims, keys.private, algorithm="EdDSA")


def unsigned(claims: dict[str, Any]) -> str:
    """alg none: no signature at all (RFC 7519 section 6, 'Unsecured JWTs')."""
    return jwt.encode(claims, None, algorithm="none")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_with_public_key(keys: Keys, claims: dict[str, Any]) -> str:
    """Algorithm confusion: HS256 keyed with the public key, which anyone can read.
    Built by hand: pyjwt itself refuses a PEM key as an HMAC secret."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = hmac.new(keys.public, signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def signed_by_stranger(claims: dict[str, Any]) -> str:
    """A well-formed EdDSA token from a key pair the service never saw."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA")

"""Access tokens: every claim checked (RFC 7519, RFC 8725), and no forgery accepted."""

import time

import pytest
from _helpers import (
    claims_for,
    hs256_with_public_key,
    said,
    signed,
    signed_by_stranger,
    unsigned,
)


def _me(http, token):
    return http.get("/users/me", headers={"Authorization": f"Bearer {token}"})


def _control(http, keys, alice):
    """A correctly signed, valid token must work, or no refusal below means anything."""
    response = _me(http, signed(keys, claims_for(alice.id)))
    assert response.status_code == 200, (
        f"GET /users/me with a valid token signed by the development key (EdDSA, "
        f"keys/dev-private.pem, iss folio-auth, aud folio-api) answered {said(response)}; "
        "expected 200. The checks make tokens of their own the way the README describes, "
        "so the service must accept a valid one."
    )


def test_token_claims_verified(http, keys, alice, rng):
    _control(http, keys, alice)
    now = int(time.time())
    # Audiences and issuers drawn per run: refusing one known wrong value is not checking.
    aud = rng.choice(["folio-payments", "folio-admin", "folio-api-v2", "api"])
    iss = rng.choice(["https://evil.example", "folio-auth-staging", "folio", "auth.folio.test"])
    expired = rng.randint(60, 7200)
    cases = [
        (f"expired {expired} seconds ago", claims_for(alice.id, iat=now - 9000, nbf=now - 9000,
                                                     exp=now - expired),
         "a token stolen from a log file or an old laptop works forever"),
        ("without an exp claim", claims_for(alice.id, exp=None),
         "a token that never expires is accepted: a leaked one works forever"),
        ("not valid for another ten minutes (nbf)", claims_for(alice.id, nbf=now + 600,
                                                             exp=now + 1200),
         "a token minted for later is usable now"),
        (f"meant for another service (aud {aud})", claims_for(alice.id, aud=aud),
         "a token issued for another service of ours (or someone else's) opens this one"),
        (f"issued by someone else (iss {iss})", claims_for(alice.id, iss=iss),
         "tokens from any issuer that shares a key are taken as ours"),
    ]  # fmt: skip
    for what, claims, why in cases:
        response = _me(http, signed(keys, claims))
        assert response.status_code == 401, (
            f"GET /users/me with a correctly signed token {what} answered {said(response)}; "
            f"expected 401 Unauthorized. As it is, {why}."
        )


@pytest.mark.check("forged_tokens_refused")
def test_alg_none_refused(http, keys, alice):
    _control(http, keys, alice)
    response = _me(http, unsigned(claims_for(alice.id)))
    assert response.status_code == 401, (
        f"GET /users/me with an unsigned token (header alg: none) for user {alice.id} "
        f"answered {said(response)}; expected 401. Anyone can write such a token for any "
        "user id: the attack succeeded, and the attacker is now that user."
    )


@pytest.mark.check("forged_tokens_refused")
def test_algorithm_confusion_refused(http, keys, alice):
    response = _me(http, hs256_with_public_key(keys, claims_for(alice.id)))
    assert response.status_code == 401, (
        f"GET /users/me with a token signed HS256 using the public key as the HMAC secret "
        f"answered {said(response)}; expected 401. The public key is public: an attacker "
        "who can pick the algorithm can sign tokens for any user."
    )
    response = _me(http, signed_by_stranger(claims_for(alice.id)))
    assert response.status_code == 401, (
        f"GET /users/me with a token signed by a key pair the service has never seen "
        f"answered {said(response)}; expected 401. A signature that is not checked "
        "proves nothing."
    )

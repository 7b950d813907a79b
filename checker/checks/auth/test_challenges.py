"""401 says how to authenticate (RFC 6750, section 3); 403 is for a missing role."""

from _helpers import fail, json_of, said

REVIEW = {"book_title": "Dune", "rating": 4, "body": "Spice."}


def _challenge(response) -> str:
    return response.headers.get("www-authenticate", "")


def test_www_authenticate(http, accounts, alice, db):
    response = http.get("/users/me")
    assert response.status_code == 401, (
        f"GET /users/me without a token answered {said(response)}; expected 401."
    )
    challenge = _challenge(response)
    assert challenge.lower().startswith("bearer"), (
        f"GET /users/me without a token answered 401 with WWW-Authenticate "
        f"{challenge or 'missing'}; expected a Bearer challenge, so the client learns how "
        "to authenticate."
    )
    # RFC 6750, section 3.1: a request with no credentials gets no error code at all.
    assert "error=" not in challenge.lower(), (
        f"GET /users/me without a token answered 401 with WWW-Authenticate {challenge}; "
        "expected a plain Bearer challenge: with no token sent, nothing was invalid "
        '(error="invalid_token" is for a token that was refused).'
    )
    response = http.get("/users/me", headers={"Authorization": "Bearer not-a-real-token"})
    challenge = _challenge(response)
    assert response.status_code == 401 and 'error="invalid_token"' in challenge, (
        f"GET /users/me with a malformed token answered {said(response)} with "
        f"WWW-Authenticate {challenge or 'missing'}; expected 401 with "
        'Bearer error="invalid_token", which tells the client to get a new token.'
    )

    created = http.post("/reviews", json=REVIEW, headers=alice.headers)
    if not created.is_success:
        fail(f"POST /reviews answered {said(created)}; this check needs to create a review.")
    review_id = json_of(created)["id"]
    url = f"/moderation/reviews/{review_id}/publish"
    response = http.post(url, headers=alice.headers)
    assert response.status_code == 403, (
        f"POST {url} by a logged-in reader answered {said(response)}; expected 403 "
        "Forbidden: the user is known (so not 401), but may not moderate."
    )

    moderator = accounts.create(login=False)
    db.execute("UPDATE users SET role = 'moderator' WHERE id = %s", [moderator.id])
    accounts.login(moderator)
    response = http.post(url, headers=moderator.headers)
    assert response.status_code == 200, (
        f"POST {url} by a moderator (role set in the users table, then logged in) answered "
        f"{said(response)}; expected 200 OK with the published review."
    )

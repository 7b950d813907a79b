"""Register, log in, read /users/me: what every other check stands on."""

from _helpers import json_of, said


def test_register_login_me(http, accounts):
    response, email, password = accounts.register()
    assert response.status_code == 201, (
        f"POST /auth/register with a new email and a good password answered "
        f"{said(response)}; expected 201 Created with the new user."
    )
    login = accounts.login_response(email, password)
    assert login.status_code == 200, (
        f"POST /auth/login with the password just registered answered {said(login)}; "
        "expected 200 OK with the tokens."
    )
    tokens = json_of(login)
    for field in ("access_token", "refresh_token"):
        assert isinstance(tokens, dict) and tokens.get(field), (
            f"POST /auth/login answered without {field}; expected both an access_token "
            "and a refresh_token."
        )
    me = http.get("/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200, (
        f"GET /users/me with the access token from the login answered {said(me)}; "
        "expected 200 OK with the user."
    )
    body = json_of(me)
    assert isinstance(body, dict) and body.get("email") == email, (
        f"GET /users/me answered the user {body.get('email') if isinstance(body, dict) else body!r}; "
        f"expected {email}, who logged in."
    )

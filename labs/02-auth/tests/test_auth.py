"""Tests of what already works. They pass from the start; keep them passing.

When you fix a hole, add a test here that would have caught it: the hidden checks tell
you what is wrong today, your own tests keep it from coming back.
"""


def register_and_login(client, credentials) -> dict:
    assert client.post("/auth/register", json=credentials).status_code == 201
    response = client.post("/auth/login", json=credentials)
    assert response.status_code == 200, response.text
    return response.json()


def test_health(client):
    assert client.get("/health").json() == {"status": "ok"}


def test_login_gives_tokens_that_work(client, credentials):
    tokens = register_and_login(client, credentials)
    assert tokens["token_type"] == "bearer"
    me = client.get("/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200
    assert me.json()["email"] == credentials["email"]


def test_wrong_password_is_refused(client, credentials):
    register_and_login(client, credentials)
    response = client.post("/auth/login", json={**credentials, "password": "not-it-at-all"})
    assert response.status_code == 401


def test_a_review_reads_back(client, credentials):
    tokens = register_and_login(client, credentials)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    review = {"book_title": "Middlemarch", "rating": 5, "body": "Patient and wise."}
    created = client.post("/reviews", json=review, headers=headers)
    assert created.status_code == 201
    response = client.get(f"/reviews/{created.json()['id']}", headers=headers)
    assert response.status_code == 200
    assert {k: response.json()[k] for k in review} == review

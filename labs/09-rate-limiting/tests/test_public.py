"""Public tests: learners run these (`pytest labs/09-rate-limiting/tests`) and add their own."""

from conftest import DEMO_KEY


def test_search_finds_books(client):
    r = client.get("/search", params={"q": "river"}, headers={"X-API-Key": DEMO_KEY})
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == len(body["results"]) > 0
    assert all({"id", "title", "author", "year"} <= set(book) for book in body["results"])


def test_unknown_key_is_401(client):
    r = client.get("/search", params={"q": "river"}, headers={"X-API-Key": "not-a-key"})
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")


def test_a_scraper_is_refused(client):
    # 25 searches in a row: more than two windows' worth, whatever the algorithm.
    statuses = [
        client.get(
            "/search", params={"q": "tower"}, headers={"X-Forwarded-For": "192.0.2.44"}
        ).status_code
        for _ in range(25)
    ]
    assert 429 in statuses
    assert set(statuses) <= {200, 429}

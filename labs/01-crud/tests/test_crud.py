"""Tests of what already works. They pass from the start; keep them passing.

When you fix a bug, add a test here that would have caught it: the hidden checks tell
you what is wrong today, your own tests keep it from coming back.
"""


def test_health(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_created_book_reads_back(client, new_book):
    created = client.post("/books", json=new_book)
    assert created.is_success, created.text
    book_id = created.json()["id"]

    response = client.get(f"/books/{book_id}")
    assert response.status_code == 200
    book = response.json()
    assert book["id"] == book_id
    assert {field: book[field] for field in new_book} == new_book


def test_new_book_is_listed(client, new_book):
    client.post("/books", json=new_book)
    response = client.get("/books", params={"limit": 100})
    assert response.status_code == 200
    assert new_book["isbn"] in [book["isbn"] for book in response.json()]

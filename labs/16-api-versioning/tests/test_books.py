"""Tests of what already works, one request at a time. They pass from the start; keep
them passing, and add a test for each bug you fix (the notebook shows how to fire two
requests at once, for the If-Match race)."""

V2 = "application/vnd.folio.book.v2+json"


def test_health(client):
    assert client.get("/health").json() == {"status": "ok"}


def test_a_v2_book_round_trip(client):
    r = client.post(
        "/v2/books",
        json={
            "title": "Piranesi",
            "authors": ["Susanna Clarke"],
            "price": {"amount": "12.99", "currency": "GBP"},
        },
    )
    assert r.status_code == 201, r.text
    book = client.get(r.headers["location"])
    assert book.json()["price"] == {"amount": "12.99", "currency": "GBP"}
    tag = book.headers["etag"]
    changed = client.patch(
        r.headers["location"], json={"subtitle": "A novel"}, headers={"If-Match": tag}
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] != tag


def test_v1_reads_a_book(client):
    # Seed data: book 1 is Dune, by Frank Herbert, a hardcover.
    r = client.get("/v1/books/1")
    assert r.status_code == 200
    assert r.json()["author"] == "Frank Herbert"


def test_books_gives_v2_to_who_asks(client):
    r = client.get("/books/1", headers={"Accept": V2})
    assert r.status_code == 200
    assert "authors" in r.json()

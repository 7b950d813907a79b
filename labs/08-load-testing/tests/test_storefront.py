"""Tests of what already works for one user. They pass from the start; keep them passing.

Functional tests like these can't see the bugs of this lab: those only show under load.
That is what your locustfile is for.
"""


def test_health(client):
    assert client.get("/health").json() == {"status": "ok"}


def test_a_book_reads_back(client):
    response = client.get("/books/1")
    assert response.status_code == 200
    book = response.json()
    assert book["id"] == 1
    assert len(book["isbn"]) == 13


def test_unknown_book_is_404(client):
    assert client.get("/books/999999").status_code == 404


def test_the_list_starts_at_the_first_book(client):
    response = client.get("/books")
    assert response.status_code == 200
    assert response.json()[0]["id"] == 1


def test_stock_comes_from_the_warehouse(client):
    isbn = client.get("/books/1").json()["isbn"]
    stock = client.get(f"/stock/{isbn}").json()
    assert stock["isbn"] == isbn
    assert stock["available"] >= 0 and stock["ships_in_days"] >= 1
    # The same book always has the same stock.
    assert client.get(f"/stock/{isbn}").json() == stock


def test_an_order_is_priced(client):
    book = client.get("/books/2").json()
    response = client.post("/orders", json={"book_id": 2, "quantity": 3})
    assert response.status_code == 201
    assert response.json()["total_cents"] == 3 * book["price_cents"]


def test_an_order_for_no_book_is_refused(client):
    assert client.post("/orders", json={"book_id": 999999, "quantity": 1}).status_code == 422

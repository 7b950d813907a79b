"""Tests of what already works. They pass from the start; keep them passing.

When you fix a bug, add a test here that would have caught it (a 503 that should have
been retried, a pick sent twice): the hidden checks tell you what is wrong today, your
own tests keep it from coming back.
"""


def test_health(client):
    assert client.get("/health").json() == {"status": "ok"}


def test_the_book_page_shows_the_providers_quote(client, shipping):
    response = client.get("/books/3")
    assert response.status_code == 200, response.text
    assert response.json()["delivery"] == {"quote_id": f"call_{len(shipping.calls)}"}
    assert shipping.calls[-1]["path"] == "/quotes/3"


def test_checkout_then_pick(client, warehouse):
    order = client.post("/orders", json={"book_id": 2, "quantity": 2})
    assert order.status_code == 201, order.text
    assert order.json()["status"] == "paid"
    picked = client.post(f"/orders/{order.json()['id']}/pick")
    assert picked.status_code == 200, picked.text
    assert picked.json()["status"] == "picking"
    assert [c["body"]["order_id"] for c in warehouse.calls].count(str(order.json()["id"])) == 1


def test_an_unknown_book_is_404(client):
    response = client.get("/books/999999")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")

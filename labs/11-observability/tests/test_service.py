"""Tests of what already works. They pass from the start; keep them passing.

When you fix a bug, add a test here that would have caught it: the hidden checks tell
you what is wrong today, your own tests keep it from coming back. (`caplog` and
`capsys` let a test read what the service logged.)
"""

TEST_CARD = "4242424242424242"  # Visa's test number: Luhn-valid, never a real card


def test_liveness(client):
    assert client.get("/health/live").status_code == 200


def test_a_book(client):
    response = client.get("/books/1")
    assert response.status_code == 200, response.text
    assert response.json()["id"] == 1


def test_an_unknown_book_is_404(client):
    response = client.get("/books/999999")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_an_order_is_charged_once(client, token, payments):
    before = len(payments.calls)
    response = client.post(
        "/orders",
        json={"book_id": 2, "quantity": 1, "card_number": TEST_CARD},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "paid"
    assert len(payments.calls) == before + 1


def test_a_request_id_is_echoed(client):
    response = client.get("/books/3", headers={"X-Request-ID": "support-ticket-42"})
    assert response.headers["x-request-id"] == "support-ticket-42"


def test_metrics_are_served(client):
    client.get("/books/1")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert "http_server_request_duration_seconds" in response.text

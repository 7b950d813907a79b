"""Tests of what already works. They pass from the start; keep them passing."""


def test_health(client):
    response = client.get("/health")
    assert response.status_code == 200


def test_an_order_is_stored_and_its_email_queued(client):
    from app.core import queues

    before = queues.emails.count
    response = client.post(
        "/orders", json={"customer_email": "ada@example.org", "book_id": 1, "quantity": 2}
    )
    assert response.status_code == 201
    assert response.json()["quantity"] == 2
    assert queues.emails.count == before + 1


def test_a_report_month_must_be_a_month(client):
    assert client.post("/reports", json={"month": "March"}).status_code == 422


def test_an_unknown_report_is_404(client):
    assert client.get("/reports/no-such-report").status_code == 404

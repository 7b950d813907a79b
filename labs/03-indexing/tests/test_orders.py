"""Tests of what already works. They pass from the start; keep them passing.

The `explain` fixture shows the plan PostgreSQL picks for a query: a test can assert on
it (for instance that it has no "Seq Scan on orders") to keep an index from going away.
"""


def test_health(client):
    assert client.get("/health").status_code == 200


def test_recent_orders_are_newest_first(client):
    orders = client.get("/customers/10/orders", params={"status": "shipped"}).json()
    assert len(orders) == 20
    assert {order["status"] for order in orders} == {"shipped"}
    stamps = [order["created_at"] for order in orders]
    assert stamps == sorted(stamps, reverse=True)


def test_lookup_by_email_ignores_case(client):
    customer = client.get("/customers/by-email", params={"email": "READER.777@EXAMPLE.COM"})
    assert customer.status_code == 200
    assert customer.json()["id"] == 777


def test_unknown_email_is_404(client):
    response = client.get("/customers/by-email", params={"email": "nobody@example.com"})
    assert response.status_code == 404


def test_explain_shows_a_plan(explain):
    plan = explain("SELECT id FROM customer WHERE id = %s", 777)
    assert "customer_pkey" in plan


def test_history_pages_follow_each_other(client):
    first = client.get("/orders", params={"limit": 5}).json()
    second = client.get("/orders", params={"limit": 5, "cursor": first["next_cursor"]}).json()
    both = first["orders"] + second["orders"]
    keys = [(order["created_at"], order["id"]) for order in both]
    assert keys == sorted(keys, reverse=True)  # newest first, across the two pages
    assert len({order["id"] for order in both}) == 10  # none repeated


def test_a_made_up_cursor_is_400(client):
    assert client.get("/orders", params={"cursor": "not-a-cursor"}).status_code == 400

"""Tests of what already works. They pass from the start; keep them passing.

When you fix a bug, add a test here that would have caught it. To count the statements
a request issues from a test, SQLAlchemy's "before_cursor_execute" event is one way.
"""


def test_health(client):
    response = client.get("/health")
    assert response.status_code == 200


def test_first_page_starts_at_the_first_author(client):
    page = client.get("/authors", params={"limit": 3}).json()
    assert [author["id"] for author in page["items"]] == [1, 2, 3]
    assert page["next_after"] == 3


def test_next_page_follows(client):
    page = client.get("/authors", params={"limit": 2, "after": 3}).json()
    assert [author["id"] for author in page["items"]] == [4, 5]


def test_books_carry_their_rating(client):
    page = client.get("/authors", params={"limit": 5}).json()
    books = [book for author in page["items"] for book in author["books"]]
    assert books, "the first authors have books"
    for book in books:
        assert book["review_count"] >= 0
        if book["review_count"]:
            assert 1 <= book["avg_rating"] <= 5
        else:
            assert book["avg_rating"] is None


def test_last_page_has_no_next(client):
    page = client.get("/authors", params={"limit": 100, "after": 250}).json()
    assert len(page["items"]) == 50
    assert page["next_after"] is None


def test_order_lists_its_items_with_titles(client):
    order = client.get("/orders/3").json()
    assert order["id"] == 3
    assert len(order["items"]) == 3
    assert all(item["title"] and item["quantity"] > 0 for item in order["items"])


def test_unknown_order_is_404(client):
    assert client.get("/orders/999999").status_code == 404

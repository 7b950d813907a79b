"""PATCH changes only the fields sent (RFC 5789; RFC 7396 for null)."""

from _helpers import FIELDS, json_of, said, shown


def read_back(http, book_id):
    response = http.get(f"/books/{book_id}")
    assert response.status_code == 200, (
        f"GET /books/{book_id} after a PATCH answered {said(response)}; expected 200 OK."
    )
    got = json_of(response)
    return got if isinstance(got, dict) else {}


def differences(got, expected):
    return [
        f"{f} is {shown(got.get(f))}, expected {shown(expected[f])}"
        for f in FIELDS
        if got.get(f) != expected[f]
    ]


def test_patch_is_partial(http, books):
    book = books.create(price_cents=1500, published_year=1951)
    url = f"/books/{book['id']}"
    expected = {field: book[field] for field in FIELDS}

    response = http.patch(url, json={"price_cents": 1700})
    assert response.status_code == 200, (
        f"PATCH {url} with only a new price_cents answered {said(response)}; expected "
        "200 OK with the updated book."
    )
    expected["price_cents"] = 1700
    wrong = differences(read_back(http, book["id"]), expected)
    assert not wrong, (
        f"After PATCH {url} sent only price_cents, the book reads back with "
        f"{'; '.join(wrong)}. Expected only price_cents to change."
    )

    response = http.patch(url, json={"published_year": None})
    assert response.status_code == 200, (
        f"PATCH {url} with published_year null (to clear it) answered {said(response)}; "
        "expected 200 OK with the updated book."
    )
    expected["published_year"] = None
    wrong = differences(read_back(http, book["id"]), expected)
    assert not wrong, (
        f"After PATCH {url} sent published_year null, the book reads back with "
        f"{'; '.join(wrong)}. Expected published_year cleared and nothing else changed."
    )

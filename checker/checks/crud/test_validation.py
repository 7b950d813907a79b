"""Invalid input answers 422 and changes nothing (RFC 9110, section 15.5.21)."""

import pytest
from _helpers import new_isbn, said, wrong_check_digit


def invalid_books(books):
    valid = new_isbn()
    return [
        ("a negative price", books.payload(price_cents=-500)),
        ("a price of zero", books.payload(price_cents=0)),
        ("an empty title", books.payload(title="")),
        ("an ISBN-13 whose check digit is wrong", books.payload(isbn=wrong_check_digit(valid))),
        ("an ISBN of 12 digits", books.payload(isbn=new_isbn()[:12])),
        ("an ISBN with a letter in it", books.payload(isbn=new_isbn()[:12] + "X")),
    ]


def test_invalid_input_422(http, books):
    wrong, stored = [], []
    try:
        for what, body in invalid_books(books):
            response = http.post("/books", json=body)
            kept = books.count_isbn(body["isbn"]) > 0
            if kept:
                stored.append(body["isbn"])
            if response.status_code != 422 or kept:
                wrong.append(f"{what} got {said(response)}" + (" and was stored" if kept else ""))
    finally:
        books.purge(isbns=stored)
    assert not wrong, (
        "POST /books with invalid input should answer 422 Unprocessable Content and store "
        f"nothing, but: {'; '.join(wrong)}."
    )


@pytest.mark.check("invalid_input_422")
def test_invalid_patch_422(http, books):
    book = books.create()
    url = f"/books/{book['id']}"
    changes = [
        ("a negative price", {"price_cents": -500}),
        ("an empty title", {"title": ""}),
        ("an ISBN-13 whose check digit is wrong", {"isbn": wrong_check_digit(book["isbn"])}),
    ]
    wrong = []
    try:
        for what, body in changes:
            before = books.row(book["id"])
            response = http.patch(url, json=body)
            changed = books.row(book["id"]) != before
            if response.status_code != 422 or changed:
                wrong.append(
                    f"{what} got {said(response)}" + (" and the book changed" if changed else "")
                )
    finally:
        books.purge(ids=[book["id"]])
    assert not wrong, (
        f"PATCH {url} with invalid input should answer 422 Unprocessable Content and leave "
        f"the book as it was, but: {'; '.join(wrong)}."
    )

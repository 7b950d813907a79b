"""The shop as a customer uses it: the smoke check."""

from _helpers import auth, make_book, make_user, said, shown, word

from checker.verdict import fail


def test_shop_works(http, db, rng):
    title = f"The {word(rng).capitalize()} Papers"
    price = rng.randint(500, 3000)
    book = make_book(db, title, price=price)
    needle = title.split()[1].lower()
    r = http.get("/books/search", params={"q": needle})
    if r.status_code != 200:
        fail(
            "search-error",
            f"GET /books/search?q={needle} answered {said(r)} {shown(r)}; expected 200.",
        )
    if [b.get("id") for b in r.json()] != [book]:
        fail("search-missed", f"GET /books/search?q={needle} answered {shown(r)}; expected only "
                              f"the book just added, {title!r} (id {book}).")  # fmt: skip
    user, email, token = make_user(db, rng)
    r = http.get("/me", headers=auth(token))
    if r.status_code != 200 or r.json().get("email") != email:
        fail("me-error", f"GET /me with a session answered {said(r)} {shown(r)}; expected 200 "
                         f"with the customer {email}.")  # fmt: skip
    quantity = rng.randint(1, 3)
    r = http.post("/orders", json={"items": [{"book_id": book, "quantity": quantity}]},
                  headers=auth(token))  # fmt: skip
    if r.status_code != 201:
        fail("order-error", f"POST /orders answered {said(r)} {shown(r)}; expected 201.")
    assert r.json().get("total_cents") == price * quantity, (
        f"An order of {quantity} x a book at {price} cents answered total_cents "
        f"{r.json().get('total_cents')}; expected {price * quantity}."
    )

"""A request sets only what its client may set (OWASP API3:2023)."""

from _helpers import auth, full_name, make_book, make_user, said, shown, user_row, word

from checker.verdict import fail

FORBIDDEN = {
    "is_admin": True,
    "role": "admin",
    "wallet_balance_cents": 9_999_900,
    "email_verified": True,
}


def test_mass_assignment_ignored(http, db, rng):
    balance = rng.randint(0, 5000)
    user, _, token = make_user(db, rng, balance=balance)
    before = user_row(db, user)
    # What each field would become: never what it already is (the user may be verified).
    forbidden = {**FORBIDDEN, "email_verified": not before["email_verified"],
                 "wallet_balance_cents": balance + rng.randint(10**5, 10**7)}  # fmt: skip
    # Every forbidden field, each alone and all together, beside a field that may change.
    fields = list(FORBIDDEN)
    rng.shuffle(fields)
    for batch in [[f] for f in fields] + [fields]:
        name = full_name(rng) + rng.choice(["", f" {word(rng)}"])
        allowed = rng.choice(["display_name", "bio"])
        r = http.patch("/me", json={allowed: name, **{f: forbidden[f] for f in batch}},
                       headers=auth(token))  # fmt: skip
        now = user_row(db, user)
        changed = [f for f in FORBIDDEN if now[f] != before[f]]
        if changed:
            fail("privilege-changed",
                 f"PATCH /me with {allowed} and {', '.join(batch)} answered {said(r)}, and the "
                 f"users row now has {', '.join(f'{f}={now[f]!r}' for f in changed)} (was "
                 f"{', '.join(f'{f}={before[f]!r}' for f in changed)}); expected those fields "
                 "unchanged: a customer may change only display_name and bio.")  # fmt: skip
        if r.status_code == 200 and now[allowed] != name:
            fail("name-not-changed", f"PATCH /me with {allowed}={name!r} answered 200, but the users "
                                     f"row has {allowed}={now[allowed]!r}; expected {name!r}.")  # fmt: skip
        if r.status_code not in (200, 422):
            fail("name-not-changed", f"PATCH /me answered {said(r)} {shown(r)}; expected 200 "
                                     "(the forbidden fields ignored) or 422 (refused).")  # fmt: skip
    while (plain := full_name(rng)) == user_row(db, user)["display_name"]:
        pass  # a name it does not have yet
    r = http.patch("/me", json={"display_name": plain}, headers=auth(token))
    if r.status_code != 200 or user_row(db, user)["display_name"] != plain:
        fail("name-not-changed", f"PATCH /me with only display_name answered {said(r)} "
                                 f"{shown(r)}; expected 200 and the name changed.")  # fmt: skip

    price = rng.randint(1500, 4000)
    book = make_book(db, f"The {word(rng)} Ledger", price=price)
    sent = rng.choice([1, 0, price // 10])
    quantity = rng.randint(1, 3)
    r = http.post("/orders", json={"items": [{"book_id": book, "quantity": quantity,
                                              "price_cents": sent, "price": sent}]},
                  headers=auth(token))  # fmt: skip
    stored = db.execute(
        "SELECT oi.price_cents, o.total_cents FROM order_items oi JOIN orders o ON o.id = oi.order_id "
        "WHERE o.user_id = %s AND oi.book_id = %s", (user, book)
    ).fetchall()  # fmt: skip
    if any(row != (price, price * quantity) for row in stored):
        fail("client-price", f"An order for a book at {price} cents that also sent price_cents={sent} "
                             f"was stored as {stored} (price, total); expected ({price}, "
                             f"{price * quantity}): the catalogue's price.")  # fmt: skip
    if r.status_code == 201 and r.json().get("total_cents") != price * quantity:
        fail("client-price", f"POST /orders answered total_cents={r.json().get('total_cents')}; "
                             f"expected {price * quantity}, at the catalogue's price.")  # fmt: skip
    if r.status_code not in (201, 422):
        fail("client-price", f"POST /orders with a price in the item answered {said(r)} {shown(r)}; "
                             "expected 201 at the catalogue's price (or 422).")  # fmt: skip

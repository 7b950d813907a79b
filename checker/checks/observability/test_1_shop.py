"""The shop as a customer uses it: the smoke check."""

from _helpers import BOOKS, Customer, card_number, said, shown

from checker.verdict import fail


def test_shop_works(http, sinks, rng):
    payments = sinks["payments"]
    customer = Customer(http, rng)
    book = rng.choice(BOOKS)
    r = http.get(f"/books/{book}")
    if r.status_code != 200 or r.json().get("id") != book:
        fail(
            "book",
            f"GET /books/{book} answered {said(r)} {shown(r.text)}; expected 200 with the book.",
        )
    r = customer.order(book, card_number(rng), quantity=rng.randint(1, 3))
    if r.status_code != 201:
        fail(
            "order",
            f"POST /orders answered {said(r)} {shown(r.text)}; expected 201 with the paid order.",
        )
    order = r.json()
    charges = payments.calls(key=str(order.get("id")))
    if len(charges) != 1 or order.get("status") != "paid":
        fail("charge", f"An order made {len(charges)} calls to the payment provider and ended "
             f"{order.get('status')!r}; expected one charge and a 'paid' order.")  # fmt: skip
    r = http.post("/orders", json={"book_id": book, "card_number": card_number(rng)})
    if r.status_code != 401:
        fail("auth", f"POST /orders without a token answered {said(r)}; expected 401.")
    for path in ("/health/live", "/health/ready"):
        r = http.get(path)
        if r.status_code != 200:
            fail("health", f"GET {path} answered {said(r)} with everything up; expected 200.")

"""A checkout takes stock, records the order and its items, and pays from the wallet;
one the wallet can't pay changes nothing."""

import pytest
from _helpers import is_problem, said, shown

from checker.verdict import expect, fail


def _buy(http, wallet_id: int, items: list[tuple[int, int]]):
    cart = {"wallet_id": wallet_id, "items": [{"book_id": b, "quantity": q} for b, q in items]}
    return http.post("/checkout", json=cart)


@pytest.mark.check("checkout_succeeds")
def test_a_checkout_takes_stock_and_pays(http, shop, rng):
    stocks = [rng.randint(5, 20), rng.randint(5, 20)]
    prices = [rng.randint(300, 4000), rng.randint(300, 4000)]
    books = [shop.book(stock=s, price_cents=p) for s, p in zip(stocks, prices, strict=True)]
    quantities = [rng.randint(1, 3), rng.randint(1, 3)]
    total = sum(p * q for p, q in zip(prices, quantities, strict=True))
    balance = total * 3
    wallet = shop.wallet(balance)

    r = _buy(http, wallet, list(zip(books, quantities, strict=True)))
    expect(
        r.status_code == 201,
        "wrong-status",
        f"POST /checkout of two books the wallet can pay for answered {said(r)} ({shown(r)}); expected 201 Created with the order.",
    )
    body = r.json()
    expect(
        body.get("total_cents") == total,
        "wrong-total",
        f"POST /checkout answered total_cents={body.get('total_cents')!r}; expected {total} (price x quantity, summed).",
    )
    for book, stock, quantity in zip(books, stocks, quantities, strict=True):
        now = shop.stock(book)
        expect(
            now == stock - quantity,
            "stock-not-taken",
            f"After a checkout of {quantity} copies, book {book}'s stock is {now}; expected {stock - quantity}.",
        )
    orders = shop.orders_of([wallet])
    expect(
        len(orders) == 1 and orders[0][2] == total,
        "order-not-stored",
        f"After one checkout the orders table holds {len(orders)} orders for the wallet ({orders}); expected one, with total_cents {total}.",
    )
    items = shop.items_of(orders[0][0])
    wanted = sorted((b, q, p) for b, q, p in zip(books, quantities, prices, strict=True))
    expect(
        items == wanted,
        "items-not-stored",
        f"The order's rows in order_items are {items} (book, quantity, price); expected {wanted}.",
    )
    paid = shop.balances([wallet])[wallet]
    expect(
        paid == balance - total,
        "not-paid",
        f"After a checkout of {total} cents the wallet holds {paid}; expected {balance - total}.",
    )
    ledger = shop.ledger_totals([wallet])[wallet]
    expect(
        ledger == paid,
        "ledger-mismatch",
        f"The wallet's ledger lines add up to {ledger} cents but its balance is {paid}; every debit needs its ledger line.",
    )

    # A second checkout from the same wallet: the shop keeps selling.
    again = _buy(http, wallet, [(books[0], 1)])
    expect(
        again.status_code == 201,
        "second-refused",
        f"A second checkout from the same wallet, of a book still in stock, answered {said(again)} ({shown(again)}); expected 201.",
    )
    now = shop.stock(books[0])
    expect(
        now == stocks[0] - quantities[0] - 1,
        "stock-not-taken",
        f"After a second checkout, book {books[0]}'s stock is {now}; expected {stocks[0] - quantities[0] - 1}.",
    )


@pytest.mark.check("unpayable_checkout_changes_nothing")
def test_a_checkout_the_wallet_cannot_pay(http, shop, rng):
    stocks = [rng.randint(2, 9), rng.randint(2, 9)]
    prices = [rng.randint(500, 3000), rng.randint(500, 3000)]
    books = [shop.book(stock=s, price_cents=p) for s, p in zip(stocks, prices, strict=True)]
    cart = [(books[0], 1), (books[1], rng.randint(1, 2))]
    total = prices[0] + prices[1] * cart[1][1]
    short = rng.randint(1, min(total - 1, 500))
    wallet = shop.wallet(total - short)

    r = _buy(http, wallet, cart)
    if r.status_code == 201:
        fail(
            "accepted-unpaid",
            f"POST /checkout of {total} cents from a wallet holding {total - short} answered 201; expected 409 Conflict: the wallet can't pay.",
        )
    expect(
        r.status_code == 409 and is_problem(r),
        "wrong-status",
        f"POST /checkout that the wallet can't pay answered {said(r)} ({shown(r)}); expected 409 Conflict as application/problem+json.",
    )
    taken = {
        b: (s, shop.stock(b)) for b, s in zip(books, stocks, strict=True) if shop.stock(b) != s
    }
    orders = shop.orders_of([wallet])
    if taken or orders:
        what = []
        if taken:
            what.append(
                "stock "
                + ", ".join(f"of book {b} went from {s} to {n}" for b, (s, n) in taken.items())
            )
        if orders:
            what.append(f"{len(orders)} order(s) for the wallet stayed in the orders table")
        fail(
            "half-done",
            f"POST /checkout answered 409 (the wallet can't pay), yet {'; '.join(what)}. Expected nothing changed: taking the stock and paying are one transaction, all or nothing.",
        )
    balance = shop.balances([wallet])[wallet]
    expect(
        balance == total - short,
        "balance-changed",
        f"After a refused checkout the wallet holds {balance} cents; expected {total - short}, as before.",
    )

    # With exactly enough money, the same cart goes through: a wallet may be emptied.
    shop.top_up(wallet, short)
    r = _buy(http, wallet, cart)
    expect(
        r.status_code == 201,
        "exact-balance-refused",
        f"The same checkout, once the wallet held exactly its {total} cents, answered {said(r)} ({shown(r)}); expected 201: a wallet may be spent down to zero.",
    )
    left = shop.balances([wallet])[wallet]
    expect(
        left == 0,
        "not-paid",
        f"After paying {total} cents from a wallet of {total}, it holds {left}; expected 0.",
    )

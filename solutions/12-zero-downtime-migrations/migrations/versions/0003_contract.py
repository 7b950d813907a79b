"""Contract: once v1 is gone, remove what only v1 needed and tighten full_name.

Revision ID: contract
Revises: expand

- rows written while nothing kept the columns in step are filled first, in batches;
- full_name becomes NOT NULL without a scan under ACCESS EXCLUSIVE: a CHECK constraint
  goes in NOT VALID (no scan), VALIDATE scans under a lock that blocks no reader or
  writer, and SET NOT NULL then finds the validated CHECK and skips its own scan;
- the trigger goes with the column it reads, in one transaction: dropped the other way
  round, every write of v2 would fail in the trigger's function.
"""

import sqlalchemy as sa
from alembic import op

revision = "contract"
down_revision = "expand"
branch_labels = None
depends_on = None

LOCK_TIMEOUT = "1s"
BATCH = 10_000

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
    op.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
    with op.get_context().autocommit_block():
        copy_names("full_name", from_column="name")
        prove_full_name_not_null()
    op.alter_column("customers", "full_name", nullable=False)
    op.execute("ALTER TABLE customers DROP CONSTRAINT IF EXISTS customers_full_name_not_null")
    drop_sync_trigger()
    op.execute("ALTER TABLE customers DROP COLUMN IF EXISTS name")


def copy_names(column: str, *, from_column: str) -> None:
    """Fill ``column`` from ``from_column`` where it is NULL, a batch of ids at a time."""
    if op.get_context().as_sql:  # `alembic upgrade --sql`: show the first batch
        op.execute(
            f"UPDATE customers SET {column} = {from_column}"
            f" WHERE id > 0 AND id <= {BATCH} AND {column} IS NULL"
        )
        return
    conn = op.get_bind()
    columns = {c["name"] for c in sa.inspect(conn).get_columns("customers")}
    if from_column not in columns:
        return
    top = conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM customers")).scalar_one()
    for start in range(0, top, BATCH):
        conn.execute(
            sa.text(
                f"UPDATE customers SET {column} = {from_column}"
                f" WHERE id > :start AND id <= :end AND {column} IS NULL"
            ),
            {"start": start, "end": start + BATCH},
        )


def prove_full_name_not_null() -> None:
    """A validated CHECK that SET NOT NULL can use as its proof."""
    op.execute(
        "ALTER TABLE customers ADD CONSTRAINT customers_full_name_not_null"
        " CHECK (full_name IS NOT NULL) NOT VALID"
    )
    op.execute("ALTER TABLE customers VALIDATE CONSTRAINT customers_full_name_not_null")


def drop_sync_trigger() -> None:
    op.execute("DROP TRIGGER IF EXISTS customers_sync_full_name ON customers")
    op.execute("DROP FUNCTION IF EXISTS customers_sync_full_name()")


def downgrade() -> None:
    op.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
    op.add_column("customers", sa.Column("name", sa.Text(), nullable=True))
    op.alter_column("customers", "full_name", nullable=True)
    op.execute(SYNC_FUNCTION)
    op.execute(
        "CREATE TRIGGER customers_sync_full_name BEFORE INSERT OR UPDATE ON customers"
        " FOR EACH ROW EXECUTE FUNCTION customers_sync_full_name()"
    )
    with op.get_context().autocommit_block():
        copy_names("name", from_column="full_name")

"""Contract: what v1 needed goes, and full_name becomes required.

Revision ID: contract
Revises: expand
"""

from alembic import op

revision = "contract"
down_revision = "expand"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # TODO: while this ran, nobody could even read a customer.
    op.alter_column("customers", "full_name", nullable=False)


def downgrade() -> None:
    op.alter_column("customers", "full_name", nullable=True)

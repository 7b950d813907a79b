"""Alembic's entry point: runs the migrations against DATABASE_URL.

`alembic upgrade expand --sql` (offline mode) prints the SQL instead of running it: a
way to read what a revision will do, and what linters such as squawk read.
"""

import os

from alembic import context
from sqlalchemy import create_engine

# No target_metadata: these migrations are written by hand, step by step, because what
# matters here is the locks each step takes, which autogenerate knows nothing about.


def database_url() -> str:
    return os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)


def run_migrations_offline() -> None:
    context.configure(
        url=os.environ.get("DATABASE_URL", "postgresql://"),
        literal_binds=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(database_url())
    with engine.connect() as connection:
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

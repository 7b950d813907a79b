"""Alembic's entry point: runs the migrations against DATABASE_URL."""

import os

from alembic import context
from sqlalchemy import create_engine

# No target_metadata: these migrations are written by hand, step by step, because what
# matters here is the locks each step takes, which autogenerate knows nothing about.


def run_migrations_online() -> None:
    url = os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()

"""Alembic's entry point: runs the migrations against DATABASE_URL."""

import os

from alembic import context
from sqlalchemy import create_engine
from sqlmodel import SQLModel

from app import models  # noqa: F401  (registers the tables, for `alembic revision --autogenerate`)

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = create_engine(os.environ["DATABASE_URL"])
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()

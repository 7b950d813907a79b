"""Runs the service in this process, on a brand-new copy of Folio's order history with
your migrations applied (as `lab check` does).

From the repository root: `pytest labs/03-indexing/tests`. The database lives on the
same PostgreSQL that `lab check` uses, and is dropped when the tests are done. The first
run builds the million-row template (about ten seconds); later runs reuse it.
"""

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from checker.testing import fresh_database

LAB_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with fresh_database("indexing") as url:
        yield url


@pytest.fixture(scope="session")
def client(database_url: str) -> Iterator[TestClient]:
    # The settings are read when the app is imported, so the URL must be set first.
    os.environ["DATABASE_URL"] = database_url
    sys.path.insert(0, str(LAB_DIR))
    from app.main import app

    with TestClient(app) as client:
        yield client


@pytest.fixture
def explain(database_url: str):
    """``explain(sql, *params)``: the plan PostgreSQL chooses, as text lines."""

    def plan(sql: str, *params) -> str:
        with psycopg.connect(database_url) as conn:
            rows = conn.execute("EXPLAIN " + sql, params or None).fetchall()
        return "\n".join(row[0] for row in rows)

    return plan

"""Runs the service in this process, on a brand-new database and Redis database.

From the repository root: `pytest labs/09-rate-limiting/tests`. Both live on the same
servers `lab check` uses, and are dropped (flushed) when the tests are done.
"""

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from checker.testing import fresh_database, fresh_redis

LAB_DIR = Path(__file__).resolve().parents[1]

#: A partner of the seeded catalogue (the seed has two for trying things by hand).
DEMO_KEY = "demo-bookworm-key"


@pytest.fixture(scope="session")
def client() -> Iterator[TestClient]:
    with fresh_database("rate-limiting") as db_url, fresh_redis() as redis_url:
        # The settings are read when the app is imported, so the URLs must be set first.
        os.environ["DATABASE_URL"] = db_url
        os.environ["REDIS_URL"] = redis_url
        sys.path.insert(0, str(LAB_DIR))
        from app.main import app

        with TestClient(app) as client:
            yield client

"""Runs the service in this process, on a brand-new database and Redis database.

From the repository root: `pytest labs/15-webhooks/tests`. No worker runs here: the tests
look at what the requests do and at the jobs they leave in the queues.
"""

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from checker.testing import fresh_database, fresh_redis

LAB_DIR = Path(__file__).resolve().parents[1]
PROVIDER_SECRET = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"  # the tests' own provider secret


@pytest.fixture(scope="session")
def client() -> Iterator[TestClient]:
    with fresh_database("webhooks") as db_url, fresh_redis() as redis_url:
        os.environ["DATABASE_URL"] = db_url
        os.environ["REDIS_URL"] = redis_url
        os.environ["EMAIL_PROVIDER_URL"] = "http://127.0.0.1:9"  # nothing is sent here
        os.environ["PAYMENTS_WEBHOOK_SECRET"] = PROVIDER_SECRET
        sys.path.insert(0, str(LAB_DIR))
        from app.main import app

        with TestClient(app) as client:
            yield client

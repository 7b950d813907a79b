"""Runs the service in this process, on a brand-new database of its own.

From the repository root: `pytest labs/02-auth/tests`. The database lives on the same
PostgreSQL that `lab check` uses, and is dropped when the tests are done.
"""

import itertools
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from checker.testing import fresh_database

LAB_DIR = Path(__file__).resolve().parents[1]
_serial = itertools.count(1)


@pytest.fixture(scope="session")
def client() -> Iterator[TestClient]:
    with fresh_database("auth") as url:
        # The settings are read when the app is imported, so these must be set first.
        os.environ["DATABASE_URL"] = url
        os.environ["JWT_PRIVATE_KEY_FILE"] = str(LAB_DIR / "keys" / "dev-private.pem")
        os.environ["JWT_PUBLIC_KEY_FILE"] = str(LAB_DIR / "keys" / "dev-public.pem")
        sys.path.insert(0, str(LAB_DIR))
        from app.main import app

        # Entering the client runs the app's lifespan, which creates the tables.
        with TestClient(app) as client:
            yield client


@pytest.fixture
def credentials() -> dict:
    """An email nobody registered yet, and a password."""
    return {"email": f"reader{next(_serial)}-{os.getpid()}@folio.test", "password": "s3cret-enough"}

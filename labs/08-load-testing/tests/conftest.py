"""Runs the service in this process, on a brand-new copy of the catalog.

From the repository root: `pytest labs/08-load-testing/tests`. The database lives on the
same PostgreSQL that `lab check` uses, and is dropped when the tests are done.
"""

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from checker.testing import fresh_database

LAB_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def client() -> Iterator[TestClient]:
    with fresh_database("load-testing") as url:
        # The settings are read when the app is imported, so the URL must be set first.
        os.environ["DATABASE_URL"] = url
        sys.path.insert(0, str(LAB_DIR))
        from app.main import app

        with TestClient(app) as client:
            yield client

"""Runs the service in this process, on a brand-new database of its own (the books
table and its small seed catalog).

From the repository root: `pytest labs/16-api-versioning/tests`.
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
    with fresh_database("api-versioning") as db_url:
        # The settings are read when the app is imported, so this must be set first.
        os.environ["DATABASE_URL"] = db_url
        sys.path.insert(0, str(LAB_DIR))
        from app.main import app

        with TestClient(app) as client:
            yield client

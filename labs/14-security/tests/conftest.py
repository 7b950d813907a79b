"""Runs the service in this process, on a brand-new database of its own (Folio's schema
and its small seed catalogue). The cover host is not started: these tests don't fetch
covers.

From the repository root: `pytest labs/14-security/tests`.
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
    with fresh_database("security") as db_url:
        # The settings are read when the app is imported, so these must be set first.
        os.environ["DATABASE_URL"] = db_url
        os.environ.setdefault("COVERS_PROVIDER_URL", "http://127.0.0.1:9")
        os.chdir(LAB_DIR)  # the downloads folder is relative to the service's folder
        sys.path.insert(0, str(LAB_DIR))
        from app.main import app

        with TestClient(app) as client:
            yield client


@pytest.fixture
def token(client) -> str:
    r = client.post(
        "/login", json={"email": "reader@folio.test", "password": "correct horse battery"}
    )
    assert r.status_code == 200
    return r.json()["token"]

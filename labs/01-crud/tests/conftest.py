"""Runs the service in this process, on a brand-new database of its own.

From the repository root: `pytest labs/01-crud/tests`. The database lives on the same
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
    with fresh_database("crud") as url:
        # The settings are read when the app is imported, so the URL must be set first.
        os.environ["DATABASE_URL"] = url
        sys.path.insert(0, str(LAB_DIR))
        from app.main import app

        # Entering the client runs the app's lifespan, which creates the tables.
        with TestClient(app) as client:
            yield client


def isbn13(first12: str) -> str:
    """Completes 12 digits into a valid ISBN-13 by adding its check digit."""
    total = sum(int(digit) * (3 if i % 2 else 1) for i, digit in enumerate(first12))
    return first12 + str(-total % 10)


@pytest.fixture
def new_book() -> dict:
    """A valid book to POST, with an ISBN that no other test uses."""
    return {
        "title": "The Dispossessed",
        "author": "Ursula K. Le Guin",
        "isbn": isbn13(f"978{next(_serial):09d}"),
        "price_cents": 1599,
        "published_year": 1974,
    }

"""Fixtures for the crud checks (helpers live in _helpers.py)."""

from __future__ import annotations

import httpx
import psycopg
import pytest
from _helpers import Books


@pytest.fixture
def books(http: httpx.Client, db: psycopg.Connection, rng) -> Books:
    return Books(http, db, rng)

"""Fixtures for the crud checks (helpers live in _helpers.py)."""

from __future__ import annotations

import httpx
import psycopg
import pytest
from _helpers import Books


@pytest.fixture
def http(http: httpx.Client) -> httpx.Client:
    # After an unhandled exception, uvicorn answers and then closes the connection. A
    # client that reuses it for the next request may find it closed under its feet: one
    # 500 would then fail the rest of the check with a misleading "dropped connection".
    # A connection per request keeps each answer independent of the one before.
    http.headers["Connection"] = "close"
    return http


@pytest.fixture
def books(http: httpx.Client, db: psycopg.Connection) -> Books:
    return Books(http, db)

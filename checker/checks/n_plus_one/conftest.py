"""Fixtures for the n-plus-one checks: a warmed-up service before counting statements."""

from __future__ import annotations

import httpx
import pytest


@pytest.fixture(scope="session")
def warm(base_url: str) -> None:
    """One request first: a new connection pool's first statements (server version,
    schema) are not the page's cost."""
    with httpx.Client(base_url=base_url, timeout=10) as client:
        client.get("/authors", params={"limit": 1})

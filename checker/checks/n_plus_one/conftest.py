"""Fixtures for the n-plus-one checks: pg_stat_statements of this run's database."""

from __future__ import annotations

import httpx
import pytest

from checker.errors import StatementsUnavailable
from checker.observe.postgres import StatementLog


@pytest.fixture(scope="session")
def statements():
    """The run database's pg_stat_statements (the check skips, saying how to enable it,
    on a server that lacks it)."""
    try:
        log = StatementLog.from_env()
    except StatementsUnavailable as exc:
        pytest.skip(exc.message)
    with log:
        yield log


@pytest.fixture(scope="session")
def warm(base_url: str) -> None:
    """One request first: a new connection pool's first statements (server version,
    schema) are not the page's cost."""
    with httpx.Client(base_url=base_url, timeout=10) as client:
        client.get("/authors", params={"limit": 1})

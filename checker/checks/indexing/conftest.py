"""Fixtures for the indexing checks: pg_stat_statements of this run's database."""

from __future__ import annotations

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

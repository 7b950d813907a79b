"""Fixtures for the auth checks (helpers live in _helpers.py).

``alice`` and ``bob`` are registered once per run: argon2 makes every registration and
login cost tens of milliseconds on purpose, so the checks keep their accounts few.
"""

from __future__ import annotations

import os
import random
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from _helpers import Account, Accounts, Keys

from checker.people import People


@pytest.fixture(scope="session")
def session_http(base_url: str):
    limits = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(base_url=base_url, timeout=5, limits=limits) as client:
        yield client


@pytest.fixture(scope="session")
def people() -> People:
    """Emails and passwords for the run's accounts, drawn from the run's seed."""
    return People(random.Random(f"{os.environ.get('LAB_SEED') or '0'}:auth-people"))


@pytest.fixture
def accounts(http: httpx.Client, people: People) -> Accounts:
    return Accounts(http, people)


@pytest.fixture(scope="session")
def _pair(session_http: httpx.Client, people: People) -> tuple[Account, Account]:
    # Side by side: the service hashes both passwords at once, on two cores.
    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(lambda _: Accounts(session_http, people).create(), range(2))
    return first, second


@pytest.fixture(scope="session")
def alice(_pair) -> Account:
    return _pair[0]


@pytest.fixture(scope="session")
def bob(_pair) -> Account:
    return _pair[1]


@pytest.fixture(scope="session")
def keys(workspace) -> Keys:
    return Keys(workspace)

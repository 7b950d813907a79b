"""Fixtures for the transactions checks (helpers live in _helpers.py)."""

from __future__ import annotations

import os
import random

import pytest
from _helpers import Shop
from stuck import StuckCheckout


@pytest.fixture
def shop(db) -> Shop:
    return Shop(db)


@pytest.fixture(scope="session", autouse=True)
def stuck_checkout(request, db, locks, base_url):
    """The stuck-admin-session check waits seconds for the service's lock_timeout: it
    starts with the run, in the background, and is judged when its turn comes, so the
    wait costs nothing. (Its waiting request is counted by no other check's gate: a
    gate counts only the sessions queued behind itself.)"""
    from checker.pytest_plugin import check_id_of

    wanted = any(check_id_of(item) == "stuck_lock_answers_503" for item in request.session.items)
    # Seeded like the rng fixture: per run, replayable with the run's seed.
    rng = random.Random(f"{os.environ.get('LAB_SEED') or '0'}:stuck_lock_answers_503")
    stuck = StuckCheckout(Shop(db), locks, base_url, rng) if wanted else None
    yield stuck
    if stuck is not None:
        stuck.close()

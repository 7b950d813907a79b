"""Fixtures for the api-versioning checks (helpers live in _helpers.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def v1_session() -> list[dict]:
    """The released v1's recorded session (record_v1.py wrote it)."""
    return json.loads((HERE / "v1_session.json").read_text())


@pytest.fixture(scope="session")
def v1_spec() -> dict:
    """The released v1's OpenAPI (its /v1 paths and their components)."""
    return json.loads((HERE / "v1_openapi.json").read_text())

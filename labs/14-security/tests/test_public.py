"""Public tests: learners run these (`pytest labs/14-security/tests`) and add their own."""

import sys
from pathlib import Path

from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.main import app  # noqa: E402


def test_health_answers():
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200

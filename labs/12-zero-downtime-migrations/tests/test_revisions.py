"""Tests of what already works. They pass from the start; keep them passing.

They need no database: Alembic reads the revisions' files, and /health answers without
touching PostgreSQL. To try the revisions on real data, see the README (`alembic
upgrade expand` against a copy of the shop) or run `lab check zero-downtime-migrations`.
"""

import os
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

LAB_DIR = Path(__file__).resolve().parents[1]


def test_revisions_form_one_line_from_0001_to_contract():
    script = ScriptDirectory.from_config(Config(str(LAB_DIR / "alembic.ini")))
    chain = [rev.revision for rev in script.walk_revisions("base", "heads")]
    assert chain == ["contract", "expand", "0001"]  # newest first


def test_health_answers_without_a_database(monkeypatch):
    import sys

    from fastapi.testclient import TestClient

    # The engine is created lazily: nothing connects until a request needs the database.
    monkeypatch.setenv(
        "DATABASE_URL", os.environ.get("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    )
    sys.path.insert(0, str(LAB_DIR))
    from app.main import app

    assert TestClient(app).get("/health").status_code == 200

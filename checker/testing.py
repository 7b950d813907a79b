"""Helpers for a lab's public tests (``labs/NN-id/tests``), which learners run and extend.

``fresh_database(lab_id)`` gives a PostgreSQL URL of a brand-new database on the same
servers ``lab check`` uses (embedded by default), dropped afterwards::

    with fresh_database("crud") as url:
        os.environ["DATABASE_URL"] = url
        ...
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from .catalog import Catalog
from .paths import state_dir
from .session import Session


@contextlib.contextmanager
def fresh_database(lab_id: str) -> Iterator[str]:
    catalog = Catalog()
    lab = catalog.get(lab_id)
    state = state_dir(catalog.root)
    # The schema as the lab's own migrations leave it (when it has some). The database is
    # named as a check's is: nothing in DATABASE_URL tells the public tests from a check.
    with Session(lab, lab.path, state=state, run_dir=state / "tests",
                 env=dict(os.environ), zygote=False) as session:  # fmt: skip
        yield session.database(migrate_log=state / f"{lab.id}-migrations.log")


@contextlib.contextmanager
def fresh_redis() -> Iterator[str]:
    """A Redis URL on an empty logical database of its own, flushed afterwards."""
    state = state_dir()
    with Session(None, Path("."), state=state, run_dir=state / "tests", zygote=False) as session:
        yield session.redis()

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

from .catalog import Catalog
from .migrations import migrated_template
from .paths import state_dir
from .runner import template_for
from .services import providers
from .services.databases import create_run_database, drop_database, ensure_template
from .services.redis_lease import RedisLease


@contextlib.contextmanager
def fresh_database(lab_id: str) -> Iterator[str]:
    catalog = Catalog()
    lab = catalog.get(lab_id)
    admin = providers(state_dir(catalog.root)).postgres.ensure()
    name, sql = template_for(lab)
    ensure_template(admin, name, sql)
    if lab.migrations:  # the schema as the lab's own migrations leave it
        name = migrated_template(
            admin, name, lab.path, lab.migrations, dict(os.environ),
            state_dir(catalog.root) / f"{lab.id}-migrations.log",
        )  # fmt: skip
    db_name, url = create_run_database(admin, name, f"{lab.id}t")
    try:
        yield url
    finally:
        drop_database(admin, db_name)


@contextlib.contextmanager
def fresh_redis() -> Iterator[str]:
    """A Redis URL on an empty logical database of its own, flushed afterwards."""
    lease = RedisLease(providers(state_dir()).redis.ensure())
    try:
        yield lease.acquire()
    finally:
        lease.release()

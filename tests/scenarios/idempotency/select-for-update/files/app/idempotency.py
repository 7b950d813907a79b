"""Idempotency keys (draft-ietf-httpapi-idempotency-key-header-06), kept in PostgreSQL,
with a row lock held while the payment is made.

A duplicate that arrives while the first request is in progress waits for it (SELECT
... FOR UPDATE), then answers the same: it gets the replay rather than a 409.
"""

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Field, SQLModel

from app.core.config import settings
from app.core.db import engine
from app.models import utc_now


class IdempotencyKey(SQLModel, table=True):
    __tablename__ = "idempotency_keys"

    client_id: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    fingerprint: str
    status: int | None = None
    body: str | None = None  # the answer, as JSON
    expires_at: datetime = Field(sa_type=DateTime(timezone=True), index=True)


class KeyReused(Exception):
    """The key was used for a different request."""


def fingerprint(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def once(
    *, client_id: str, key: str, fingerprint: str, work: Callable[[], tuple[int, Any]]
) -> tuple[int, Any, bool]:
    """Runs ``work`` once per key: (status, body, replayed). If ``work`` raises, nothing is
    kept, so a retry runs it again."""
    this = (IdempotencyKey.client_id == client_id) & (IdempotencyKey.key == key)
    with engine.begin() as conn:
        conn.execute(delete(IdempotencyKey).where(this, IdempotencyKey.expires_at < func.now()))
        conn.execute(
            insert(IdempotencyKey)
            .values(
                client_id=client_id,
                key=key,
                fingerprint=fingerprint,
                expires_at=utc_now() + timedelta(seconds=settings.IDEMPOTENCY_TTL_SECONDS),
            )
            .on_conflict_do_nothing()
        )
        # Duplicates wait here until the first transaction commits (or rolls back).
        row = conn.execute(select(IdempotencyKey).where(this).with_for_update()).one()
        if row.fingerprint != fingerprint:
            raise KeyReused
        if row.status is not None:
            return row.status, json.loads(row.body), True
        status, body = work()
        conn.execute(
            update(IdempotencyKey).where(this).values(status=status, body=json.dumps(body))
        )
        return status, body, False

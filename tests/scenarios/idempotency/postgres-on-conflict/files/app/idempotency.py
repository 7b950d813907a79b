"""Idempotency keys (draft-ietf-httpapi-idempotency-key-header-06), kept in PostgreSQL.

One row per client and Idempotency-Key; the primary key on (client_id, key) makes the
claim atomic: INSERT ... ON CONFLICT DO NOTHING inserts for exactly one of any number of
racing requests, and tells that one it won.
"""

import hashlib
import json
from dataclasses import dataclass
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


@dataclass
class Record:
    fingerprint: str
    status: int | None = None
    body: Any = None


def fingerprint(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _this(client_id: str, key: str):
    return (IdempotencyKey.client_id == client_id) & (IdempotencyKey.key == key)


def claim(*, client_id: str, key: str, fingerprint: str) -> Record | None:
    with engine.begin() as conn:
        # An expired key is forgotten (a periodic job would sweep the rest).
        conn.execute(
            delete(IdempotencyKey).where(
                _this(client_id, key), IdempotencyKey.expires_at < func.now()
            )
        )
        won = conn.execute(
            insert(IdempotencyKey)
            .values(
                client_id=client_id,
                key=key,
                fingerprint=fingerprint,
                expires_at=utc_now() + timedelta(seconds=settings.IDEMPOTENCY_TTL_SECONDS),
            )
            .on_conflict_do_nothing()
            .returning(IdempotencyKey.key)
        ).first()
        if won:
            return None
        row = conn.execute(select(IdempotencyKey).where(_this(client_id, key))).one()
    return Record(row.fingerprint, row.status, json.loads(row.body) if row.body else None)


def complete(*, client_id: str, key: str, fingerprint: str, status: int, body: Any) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(IdempotencyKey)
            .where(_this(client_id, key))
            .values(status=status, body=json.dumps(body))
        )


def release(*, client_id: str, key: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(IdempotencyKey).where(_this(client_id, key)))

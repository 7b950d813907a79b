"""Idempotency keys (draft-ietf-httpapi-idempotency-key-header-06), kept in Redis.

A client sends `Idempotency-Key: <unique value>` with each payment, and the same value
again on every retry of that payment. Under one Redis key per client and Idempotency-Key
we keep a record: the fingerprint of the request that used the key first and, once it is
done, what it answered. A retry gets that answer instead of a second charge.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from redis import Redis

from app.core.config import settings

TTL_SECONDS = settings.IDEMPOTENCY_TTL_SECONDS


@dataclass
class Record:
    fingerprint: str  # of the request that used the key first
    status: int | None = None  # what it answered; None while it is still in progress
    body: Any = None


def fingerprint(payload: dict[str, Any]) -> str:
    """The same payment, written with its fields in any order, gives the same value."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _name(client_id: str, key: str) -> str:
    # Keys are chosen by clients, and two clients may well choose the same one.
    return f"idempotency:{client_id}:{key}"


def claim(redis: Redis, *, client_id: str, key: str, fingerprint: str) -> Record | None:
    """Claims the key for this request (returns None), or returns the record of the
    request that claimed it first."""
    name = _name(client_id, key)
    record = json.dumps({"fingerprint": fingerprint})
    # SET NX is one atomic step: of any number of requests racing with one key, exactly
    # one sets it. A GET followed by a SET would let them all through.
    if redis.set(name, record, nx=True, ex=TTL_SECONDS):
        return None
    stored = redis.get(name)
    if stored is None:  # released or expired in between: claim again
        return claim(redis, client_id=client_id, key=key, fingerprint=fingerprint)
    return Record(**json.loads(stored))


def complete(
    redis: Redis, *, client_id: str, key: str, fingerprint: str, status: int, body: Any
) -> None:
    record = json.dumps({"fingerprint": fingerprint, "status": status, "body": body})
    redis.set(_name(client_id, key), record, ex=TTL_SECONDS)


def release(redis: Redis, *, client_id: str, key: str) -> None:
    """Forgets a claim whose request failed, so that a retry may try again."""
    redis.delete(_name(client_id, key))

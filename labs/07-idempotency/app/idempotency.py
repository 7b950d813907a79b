"""Idempotency keys: what a payment request answered, remembered under its key.

A client sends `Idempotency-Key: <unique value>` with each payment, and the same value
again on every retry of that payment. We remember what the first request answered, so a
retry gets that answer instead of a second charge.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from redis import Redis


@dataclass
class Record:
    fingerprint: str  # of the request that used the key first
    status: int | None = None  # what it answered
    body: Any = None


def fingerprint(payload: dict[str, Any]) -> str:
    """The same payment, written with its fields in any order, gives the same value."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# TODO: two clients that happen to pick the same key get each other's payments.
def _name(client_id: str, key: str) -> str:
    return f"idempotency:{key}"


def lookup(redis: Redis, *, client_id: str, key: str) -> Record | None:
    stored = redis.get(_name(client_id, key))
    return Record(**json.loads(stored)) if stored else None


# TODO: keys are remembered forever, so Redis only ever grows.
def remember(
    redis: Redis, *, client_id: str, key: str, fingerprint: str, status: int, body: Any
) -> None:
    record = json.dumps({"fingerprint": fingerprint, "status": status, "body": body})
    redis.set(_name(client_id, key), record)

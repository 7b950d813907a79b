"""Idempotency keys in the process's memory: fast, and atomic under a lock, but gone at
every restart and never expired."""

import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

from redis import Redis

_LOCK = threading.Lock()
_RECORDS: dict[str, dict[str, Any]] = {}


@dataclass
class Record:
    fingerprint: str
    status: int | None = None
    body: Any = None


def fingerprint(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim(redis: Redis, *, client_id: str, key: str, fingerprint: str) -> Record | None:
    with _LOCK:
        stored = _RECORDS.get(f"{client_id}:{key}")
        if stored is None:
            _RECORDS[f"{client_id}:{key}"] = {"fingerprint": fingerprint}
            return None
        return Record(**stored)


def complete(
    redis: Redis, *, client_id: str, key: str, fingerprint: str, status: int, body: Any
) -> None:
    with _LOCK:
        _RECORDS[f"{client_id}:{key}"] = {"fingerprint": fingerprint, "status": status, "body": body}


def release(redis: Redis, *, client_id: str, key: str) -> None:
    with _LOCK:
        _RECORDS.pop(f"{client_id}:{key}", None)

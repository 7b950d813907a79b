"""v2's opaque cursors: where the last page ended, signed so nobody can edit it.

A cursor names the last book a page showed (a keyset), not how many books came
before it: inserting or deleting books elsewhere moves no book to another page.
"""

import base64
import hashlib
import hmac
import json

from app.core.config import settings


class BadCursor(ValueError):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(payload: str) -> str:
    key = settings.CURSOR_SECRET.encode()
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())


def encode(last_id: int) -> str:
    payload = _b64(json.dumps({"after": last_id}, separators=(",", ":")).encode())
    return f"{payload}.{_sign(payload)}"


def decode(cursor: str) -> int:
    payload, _, signature = cursor.partition(".")
    if not hmac.compare_digest(signature.encode(), _sign(payload).encode()):
        raise BadCursor("This cursor was not made by this service (or was edited).")
    try:
        after = json.loads(_unb64(payload))["after"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BadCursor("This cursor cannot be read.") from exc
    if not isinstance(after, int):
        raise BadCursor("This cursor cannot be read.")
    return after

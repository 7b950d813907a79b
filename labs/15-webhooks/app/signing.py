"""Standard Webhooks signatures (https://www.standardwebhooks.com, v1).

A message is signed with HMAC-SHA256 (RFC 2104) over `<webhook-id>.<webhook-timestamp>.<body>`,
the body exactly as sent, byte for byte. The key is the secret's base64 part, after `whsec_`.
The signature travels as `webhook-signature: v1,<base64 of the MAC>`; several, separated
by spaces, while a secret is being rotated.
"""

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping

TOLERANCE_SECONDS = 5 * 60  # how far a webhook-timestamp may be from our clock


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def is_valid(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """Whether ``body`` with these headers was signed with ``secret``, recently."""
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (msg_id and timestamp and signatures and timestamp.isdigit()):
        return False
    # TODO: a call captured once (from a log, a proxy) can be sent again, and again.
    expected = sign(secret, msg_id, int(timestamp), body)
    # compare_digest takes as long whichever byte differs: the time a comparison takes
    # tells an attacker nothing about how much of their guess was right.
    return any(hmac.compare_digest(expected, s) for s in signatures.split(" "))

"""What hidden checks read from outside the service: PostgreSQL, Redis, RQ, sinks, load."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl


@functools.cache
def tls() -> ssl.SSLContext:
    """One TLS context for every HTTP client the checks make (``httpx.Client(verify=tls())``):
    each new client would otherwise load the CA bundle again, about 25 ms, which a check
    making a dozen clients (a sink each, a client per posted event) pays for nothing. The
    same context httpx makes by default; a context is safe to share between threads."""
    import httpx

    return httpx.create_ssl_context()

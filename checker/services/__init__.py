"""PostgreSQL and Redis for the checks: embedded (default), external URL, or docker.

Boundary: this package knows nothing of labs. It provides servers, per-run databases
cloned from templates, and per-run Redis databases.

Choice, per service:
* ``LAB_DATABASE_URL`` / ``LAB_REDIS_URL`` set: that external server (never started or
  stopped by us);
* else ``LAB_SERVICES=docker``: a container through testcontainers;
* else the embedded server under ``.lab/`` (``LAB_SERVICES=embedded``, the default).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from .base import Provider, ServiceStatus, redact
from .docker import DockerPostgres, DockerRedis
from .embedded import EmbeddedPostgres, EmbeddedRedis
from .external import ExternalPostgres, ExternalRedis

__all__ = ["Providers", "Provider", "ServiceStatus", "providers", "redact"]


@dataclass
class Providers:
    postgres: Provider
    redis: Provider

    def all(self) -> list[Provider]:
        return [self.postgres, self.redis]


def providers(state: Path) -> Providers:
    mode = os.environ.get("LAB_SERVICES", "embedded").strip().lower() or "embedded"
    if mode not in {"embedded", "docker"}:
        raise UsageError(f"LAB_SERVICES={mode!r} is not one of: embedded, docker.")
    db_url = os.environ.get("LAB_DATABASE_URL", "").strip()
    redis_url = os.environ.get("LAB_REDIS_URL", "").strip()
    if db_url:
        pg: Provider = ExternalPostgres(db_url)
    elif mode == "docker":
        pg = DockerPostgres()
    else:
        pg = EmbeddedPostgres(state)
    if redis_url:
        rd: Provider = ExternalRedis(redis_url)
    elif mode == "docker":
        rd = DockerRedis()
    else:
        rd = EmbeddedRedis(state)
    return Providers(pg, rd)

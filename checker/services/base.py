"""The small interface every PostgreSQL and Redis provider implements.

A provider answers one question: "give me a server I may use, starting it if that is
mine to do". It knows nothing of labs; per-run databases and Redis namespaces are made
on top of it (see ``databases.py`` and ``redis_lease.py``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass
class ServiceStatus:
    name: str  # "postgres" | "redis"
    provider: str  # "embedded" | "external" | "docker"
    running: bool
    url: str | None = None
    version: str | None = None
    details: dict[str, str] = field(default_factory=dict)


class Provider(Protocol):
    name: str
    kind: str

    def ensure(self) -> str:
        """Start the server if needed; return an admin URL (a superuser)."""

    def status(self) -> ServiceStatus: ...

    def stop(self) -> bool:
        """Stop the server if it is ours to stop; True if something was stopped."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@contextlib.contextmanager
def file_lock(path: Path, timeout: float = 120.0) -> Iterator[None]:
    """An exclusive lock between processes (two `lab` commands starting at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"another lab process holds {path}") from None
                time.sleep(0.05)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def redact(url: str) -> str:
    """A URL fit to print: the password, if any, replaced by ***."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def redis_probe(url: str, timeout: float = 2.0):
    """A Redis client that fails at once instead of retrying with backoff (redis-py's
    default), for checking whether a server is there."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0)
    )


def tail(path: Path, lines: int = 30, max_bytes: int = 64_000) -> str:
    """The last ``lines`` of a log file (reads at most ``max_bytes`` from its end)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - max_bytes))
            data = f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


def reuse_or_free_port(meta: Path) -> int:
    """The port recorded in ``meta`` (JSON with "port") if still free, else a new one."""
    import json

    with contextlib.suppress(OSError, ValueError, KeyError):
        previous = int(json.loads(meta.read_text())["port"])
        if port_is_free(previous):
            return previous
    return free_port()

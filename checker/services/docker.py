"""Docker servers through testcontainers: ``LAB_SERVICES=docker``.

Containers get fixed names and outlive the command (like the embedded servers), so
warm checks stay fast; ``lab services down`` removes them. The Ryuk reaper is turned
off for them for that reason. Without a Docker engine this fails fast with a clear
message; our CI machines have none, so this path is covered by tests of what it would
start (``spec()``), not by real runs.
"""

from __future__ import annotations

import os
import time

from ..errors import ServiceUnavailable
from .base import ServiceStatus

POSTGRES_IMAGE = os.environ.get("LAB_POSTGRES_IMAGE", "postgres:18")
REDIS_IMAGE = os.environ.get("LAB_REDIS_IMAGE", "redis:7")


def _docker_client():
    os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
    import docker

    _probe_socket()
    client = None
    try:
        client = docker.from_env(timeout=5)
        client.ping()
        return client
    except Exception as exc:
        if client is not None:
            client.close()  # docker raises many kinds here; all mean "no engine"
        raise ServiceUnavailable(
            "LAB_SERVICES=docker, but no Docker engine answers.",
            detail=f"{type(exc).__name__}: {exc}\nStart Docker, or unset LAB_SERVICES to use "
            "the embedded servers (no Docker needed).",
        ) from None


def _probe_socket() -> None:
    """Fail fast, and without leaking a socket, when the engine's unix socket is absent."""
    import socket

    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        return
    path = host.removeprefix("unix://")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        try:
            s.connect(path)
        except OSError as exc:
            raise ServiceUnavailable(
                "LAB_SERVICES=docker, but no Docker engine answers.",
                detail=f"{path}: {exc.strerror or exc}\nStart Docker, or unset LAB_SERVICES to "
                "use the embedded servers (no Docker needed).",
            ) from None


class _DockerService:
    name = ""
    kind = "docker"
    container_port = 0

    def spec(self) -> dict:
        raise NotImplementedError

    def _url(self, port: int) -> str:
        raise NotImplementedError

    def _container(self, client):
        import docker.errors

        try:
            return client.containers.get(self.spec()["name"])
        except docker.errors.NotFound:
            return None

    def ensure(self) -> str:
        client = _docker_client()
        container = self._container(client)
        if container is None:
            from testcontainers.core.container import DockerContainer

            spec = self.spec()
            dc = DockerContainer(spec["image"], **{"name": spec["name"]})
            for key, value in spec["env"].items():
                dc.with_env(key, value)
            dc.with_bind_ports(self.container_port, None)
            if spec["command"]:
                dc.with_command(spec["command"])
            dc.start()
            container = self._container(client)
        elif container.status != "running":
            container.start()
        container.reload()
        binding = container.attrs["NetworkSettings"]["Ports"][f"{self.container_port}/tcp"][0]
        url = self._url(int(binding["HostPort"]))
        self._wait(url)
        return url

    def _wait(self, url: str) -> None:  # pragma: no cover - needs Docker
        raise NotImplementedError

    def stop(self) -> bool:
        client = _docker_client()
        container = self._container(client)
        if container is None:
            return False
        container.remove(force=True)
        return True

    def status(self) -> ServiceStatus:
        st = ServiceStatus(self.name, "docker", running=False)
        try:
            client = _docker_client()
        except ServiceUnavailable as exc:
            st.details["error"] = exc.message
            return st
        container = self._container(client)
        st.running = container is not None and container.status == "running"
        st.details["image"] = self.spec()["image"]
        return st


class DockerPostgres(_DockerService):
    name = "postgres"
    container_port = 5432

    def spec(self) -> dict:
        return {
            "name": "backend-lab-postgres",
            "image": POSTGRES_IMAGE,
            "env": {"POSTGRES_HOST_AUTH_METHOD": "trust"},
            "command": "postgres -c shared_preload_libraries=pg_stat_statements "
            "-c pg_stat_statements.track=all -c fsync=off -c max_connections=200",
            "port": self.container_port,
        }

    def _url(self, port: int) -> str:
        return f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def _wait(self, url: str) -> None:  # pragma: no cover - needs Docker
        import psycopg

        deadline = time.monotonic() + 60
        while True:
            try:
                with psycopg.connect(url, connect_timeout=2):
                    return
            except psycopg.Error:
                if time.monotonic() > deadline:
                    raise ServiceUnavailable("The PostgreSQL container did not answer.") from None
                time.sleep(0.5)


class DockerRedis(_DockerService):
    name = "redis"
    container_port = 6379

    def spec(self) -> dict:
        return {
            "name": "backend-lab-redis",
            "image": REDIS_IMAGE,
            "env": {},
            "command": "redis-server --save '' --appendonly no --databases 64",
            "port": self.container_port,
        }

    def _url(self, port: int) -> str:
        return f"redis://127.0.0.1:{port}/0"

    def _wait(self, url: str) -> None:  # pragma: no cover - needs Docker
        import redis

        deadline = time.monotonic() + 30
        while True:
            try:
                with redis.Redis.from_url(url, socket_connect_timeout=2) as client:
                    client.ping()
                    return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise ServiceUnavailable("The Redis container did not answer.") from None
                time.sleep(0.3)

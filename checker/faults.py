"""Fault injection between the learner's service and Redis: a per-run TCP proxy.

A lab that declares ``faults = ["redis"]`` gets, for every run, a small proxy process
(``python -m checker.faults``) between its service (and worker) and Redis: their
``REDIS_URL`` points at the proxy, which forwards bytes to the run's real Redis
database. The checks cut and restore that link (``checker.observe.redis.RedisLink``,
the ``redis_link`` fixture) to see what the service does when Redis is gone.

Why a proxy, and not stopping Redis: the embedded Redis is shared by every run on the
machine (each run leases a database number of it), and an external one is not ours to
stop. Stopping *the* server would break concurrent runs and other people's data. A
per-run proxy gives each run an outage of its own, on every provider (embedded,
external, docker), and is as real as an outage gets for the client: while the link is
``down``, open connections are closed and new ones are accepted and closed at once (the
redis client raises ``ConnectionError``, as with a server that went away); in ``hang``
mode they are accepted and never answered (the client waits for its own timeout, as
with a server that froze). The checks' own ``redis`` fixture connects directly, so they
still observe Redis during an outage.

Control API (JSON): ``GET /status`` (``{"state", "connections", "accepted"}``),
``POST /down`` (``{"mode": "refuse" | "hang"}``), ``POST /up``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit


class Proxy:
    def __init__(self, target: str) -> None:
        self.target = target  # "host:port" or a unix socket path
        self.state = "up"
        self.lock = threading.Lock()
        self.conns: set[socket.socket] = set()
        self.accepted = 0
        self.listener = socket.create_server(("127.0.0.1", 0))

    @property
    def port(self) -> int:
        return self.listener.getsockname()[1]

    def _connect(self) -> socket.socket:
        if ":" in self.target and not self.target.startswith("/"):
            host, port = self.target.rsplit(":", 1)
            return socket.create_connection((host, int(port)), timeout=5)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(self.target)
        return s

    def serve(self) -> None:
        while True:
            client, _ = self.listener.accept()
            with self.lock:
                self.accepted += 1
                state = self.state
            if state == "refuse":
                _close(client)
            elif state == "hang":
                self._track(client)
                threading.Thread(target=_drain, args=(client,), daemon=True).start()
            else:
                threading.Thread(target=self._forward, args=(client,), daemon=True).start()

    def _track(self, *socks: socket.socket) -> None:
        with self.lock:
            self.conns.update(socks)

    def _forward(self, client: socket.socket) -> None:
        try:
            upstream = self._connect()
        except OSError:
            _close(client)
            return
        upstream.settimeout(None)
        self._track(client, upstream)
        threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()
        _pipe(client, upstream)

    def set_state(self, state: str) -> None:
        # Any change drops the connections open now: going down cuts them; coming back
        # up drops the ones left hanging, as a restarted server would.
        with self.lock:
            if state == self.state:
                return
            self.state = state
            doomed, self.conns = self.conns, set()
        for s in doomed:
            _close(s)

    def status(self) -> dict[str, Any]:
        with self.lock:
            return {"state": self.state, "connections": len(self.conns), "accepted": self.accepted}


def _close(s: socket.socket) -> None:
    with contextlib.suppress(OSError):
        s.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        s.close()


def _drain(s: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while s.recv(65536):
            pass


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        _close(src)
        _close(dst)


def _control(proxy: Proxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._send(200, proxy.status()) if self.path == "/status" else self._send(404, {})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}") if length else {}
            if self.path == "/down":
                mode = body.get("mode", "refuse")
                if mode not in ("refuse", "hang"):
                    self._send(400, {"title": "mode must be 'refuse' or 'hang'"})
                    return
                proxy.set_state(mode)
                print(f"{time.strftime('%H:%M:%S')} link down ({mode})", flush=True)
                self._send(200, proxy.status())
            elif self.path == "/up":
                proxy.set_state("up")
                print(f"{time.strftime('%H:%M:%S')} link up", flush=True)
                self._send(200, proxy.status())
            else:
                self._send(404, {})

    return Handler


def serve(target: str, port_file: Path) -> None:
    proxy = Proxy(target)
    control = ThreadingHTTPServer(("127.0.0.1", 0), _control(proxy))
    control.daemon_threads = True
    threading.Thread(target=control.serve_forever, kwargs={"poll_interval": 0.5},
                     daemon=True).start()  # fmt: skip
    tmp = port_file.with_suffix(".tmp")
    tmp.write_text(json.dumps({"proxy": proxy.port, "control": control.server_address[1]}))
    os.replace(tmp, port_file)
    print(f"proxy 127.0.0.1:{proxy.port} -> {target}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        proxy.serve()


def target_of(redis_url: str) -> str:
    """``host:port`` (or the socket path) the proxy forwards to."""
    parts = urlsplit(redis_url)
    if parts.scheme == "unix":
        return parts.path
    return f"{parts.hostname or '127.0.0.1'}:{parts.port or 6379}"


def through(redis_url: str, port: int) -> str:
    """``redis_url`` with its host and port replaced by the proxy's (credentials and
    database number kept)."""
    parts = urlsplit(redis_url)
    if parts.scheme == "unix":
        from urllib.parse import parse_qs

        db = parse_qs(parts.query).get("db", ["0"])[0]
        return f"redis://127.0.0.1:{port}/{db}"
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@127.0.0.1:{port}" if userinfo else f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=netloc))


class Launched:
    """The runner's handle on a run's Redis proxy."""

    def __init__(self, redis_url: str, *, run_dir: Path, env: dict[str, str]) -> None:
        from . import process

        self.redis_url = redis_url
        self.port_file = run_dir / "redis-proxy.port"
        self.port_file.unlink(missing_ok=True)
        self.proc = process.ManagedProcess(
            [sys.executable, "-m", "checker.faults", target_of(redis_url),
             "--port-file", str(self.port_file)],
            cwd=run_dir, env=env, log_path=run_dir / "redis-proxy.log",
        ).start()  # fmt: skip

    def urls(self, timeout: float = 10.0) -> tuple[str, str]:
        """(the proxied Redis URL for the service, the control URL for the checks)."""
        from .errors import ServiceError
        from .process import tail

        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(OSError, ValueError):
                ports = json.loads(self.port_file.read_text())
                return through(self.redis_url, ports["proxy"]), (
                    f"http://127.0.0.1:{ports['control']}"
                )
            if not self.proc.alive() or time.monotonic() > deadline:
                raise ServiceError(
                    "The Redis fault proxy did not start. This is a problem in Backend Lab, "
                    "not in your code: please report it.",
                    detail=tail(self.proc.log_path),
                )
            time.sleep(0.01)

    def stop(self) -> None:
        self.proc.stop(grace=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m checker.faults")
    parser.add_argument("target", help="host:port or a unix socket path")
    parser.add_argument("--port-file", type=Path, required=True)
    args = parser.parse_args(argv)
    serve(args.target, args.port_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Fault injection between the learner's service and Redis: a per-run TCP proxy.

A lab that declares ``faults = ["redis"]`` gets, for every run, a small proxy process
(``python -m checker.sidecars.redis_proxy``) between its service (and worker) and Redis: their
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
with a server that froze); in ``unreachable`` mode they are never even accepted: the
proxy stops accepting and keeps the kernel's accept queue full, so a client's SYN is
dropped and its ``connect()`` waits for the client's own connect timeout, as with a host
that went off the network or a firewall that drops packets (without a connect timeout,
that is the operating system's: about two minutes). The checks' own ``redis`` fixture connects directly, so they
still observe Redis during an outage.

The link can also be slow: ``POST /delay`` (``{"ms": 20}``) holds every chunk the
service sends for that long before it goes on to Redis (about one delay per round trip),
which widens any race between a read and a write in the service's code. And it can
**record** the commands that pass (``POST /record``, ``GET /commands``): the proxy reads
the RESP protocol of the service's side, so a check can explain a failure ("GET, then
SET: not one atomic step") but should never decide one from the record alone.

Control API (JSON): ``GET /status`` (``{"state", "connections", "accepted",
"delay_ms", "recording"}``), ``POST /down`` (``{"mode": "refuse" | "hang" |
"unreachable"}``), ``POST
/up``, ``POST /delay`` (``{"ms": 20}``), ``POST /record`` (``{"on": true}``: clears and
starts), ``GET /commands`` (``[{"at", "conn", "args"}]``, arguments cut at 100 bytes).
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .base import (
    ControlHandler,
    Exports,
    Sidecar,
    announce,
    checks_env,
    control_server,
    serve_in_background,
)


class Proxy:
    def __init__(self, target: str) -> None:
        self.target = target  # "host:port" or a unix socket path
        self.state = "up"
        self.lock = threading.Lock()
        self.conns: set[socket.socket] = set()
        self.accepted = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.reachable = threading.Event()  # cleared while the link is unreachable
        self.reachable.set()
        self.fillers: list[socket.socket] = []  # what keeps the accept queue full
        self.delay_s = 0.0
        self.recording = False
        self.commands: list[dict[str, Any]] = []

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
            if state == "unreachable":
                # Accept no more while unreachable: this connection (the one that woke
                # the loop, or one that slipped in) is held; the queue stays full.
                self._track(client)
                self.reachable.wait()
                continue
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
        with self.lock:
            conn_id = self.accepted
        _pipe(client, upstream, self._outbound(conn_id))

    def _outbound(self, conn_id: int) -> Any:
        """What happens to each chunk from the service: recorded, then delayed."""
        parser = RespParser()

        def each(data: bytes) -> None:
            if self.recording:
                for args in parser.feed(data):
                    with self.lock:
                        if len(self.commands) < MAX_RECORDED:
                            self.commands.append({"at": time.time(), "conn": conn_id, "args": args})
            if self.delay_s:
                time.sleep(self.delay_s)

        return each

    def record(self, on: bool) -> None:
        with self.lock:
            self.commands = []
            self.recording = on

    def set_state(self, state: str) -> None:
        # Any change drops the connections open now: going down cuts them; coming back
        # up drops the ones left hanging, as a restarted server would.
        with self.lock:
            if state == self.state:
                return
            was, self.state = self.state, state
            doomed, self.conns = self.conns, set()
        for s in doomed:
            _close(s)
        if state == "unreachable":
            self._fill_accept_queue()
        elif was == "unreachable":
            self._drain_accept_queue()

    def _fill_accept_queue(self) -> None:
        """Stop accepting and leave the kernel's accept queue full: a backlog of 0 holds
        one connection, and a SYN that finds the queue full is dropped (Linux's
        ``sk_acceptq_is_full``), so new clients wait in ``connect()``. The first
        connection wakes the accept loop, which parks on it; the second fills the queue."""
        self.reachable.clear()
        self.listener.listen(0)
        for _ in range(2):
            filler = socket.create_connection(("127.0.0.1", self.port), timeout=2)
            self.fillers.append(filler)
            deadline = time.monotonic() + 2
            while self.accepted_since_fill() < 1 and time.monotonic() < deadline:
                time.sleep(0.005)

    def accepted_since_fill(self) -> int:
        with self.lock:
            return len(self.conns)

    def _drain_accept_queue(self) -> None:
        fillers, self.fillers = self.fillers, []
        for s in fillers:
            _close(s)
        self.listener.listen(socket.SOMAXCONN)
        self.reachable.set()

    def status(self) -> dict[str, Any]:
        with self.lock:
            return {"state": self.state, "connections": len(self.conns),
                    "accepted": self.accepted, "delay_ms": round(self.delay_s * 1000),
                    "recording": self.recording}  # fmt: skip


def _close(s: socket.socket) -> None:
    with contextlib.suppress(OSError):
        s.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        s.close()


def _drain(s: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while s.recv(65536):
            pass


MAX_RECORDED = 100_000
MAX_ARG = 100


class RespParser:
    """The commands in a client's byte stream (RESP arrays of bulk strings, or inline
    commands), fed chunk by chunk; arguments as text, cut at MAX_ARG bytes."""

    def __init__(self) -> None:
        self.buf = b""

    def feed(self, data: bytes) -> list[list[str]]:
        self.buf += data
        out = []
        while self.buf:
            parsed = self._one()
            if parsed is None:
                break
            out.append(parsed)
        return out

    def _one(self) -> list[str] | None:
        buf = self.buf
        end = buf.find(b"\r\n")
        if end < 0:
            return None
        if not buf.startswith(b"*"):  # an inline command
            self.buf = buf[end + 2 :]
            return [_text(a) for a in buf[:end].split()]
        count, pos, args = int(buf[1:end]), end + 2, []
        for _ in range(count):
            end = buf.find(b"\r\n", pos)
            if end < 0 or buf[pos : pos + 1] != b"$":
                return None
            size = int(buf[pos + 1 : end])
            start = end + 2
            if len(buf) < start + size + 2:
                return None
            args.append(_text(buf[start : start + size]))
            pos = start + size + 2
        self.buf = buf[pos:]
        return args


def _text(arg: bytes) -> str:
    return arg[:MAX_ARG].decode("utf-8", errors="replace")


def _pipe(src: socket.socket, dst: socket.socket, each: Any = None) -> None:
    try:
        while data := src.recv(65536):
            if each is not None:
                try:
                    each(data)
                except ValueError:  # not RESP after all: forward it, record no more
                    each = None
            dst.sendall(data)
    except OSError:
        pass
    finally:
        _close(src)
        _close(dst)


def _control(proxy: Proxy) -> type[ControlHandler]:
    class Handler(ControlHandler):
        def do_GET(self) -> None:
            if self.path == "/status":
                self.send(200, proxy.status())
            elif self.path == "/commands":
                with proxy.lock:
                    self.send(200, list(proxy.commands))
            else:
                self.send(404, {})

        def do_POST(self) -> None:
            body = self.json_body()
            if self.path == "/down":
                mode = body.get("mode", "refuse")
                if mode not in ("refuse", "hang", "unreachable"):
                    self.send(400, {"title": "mode must be 'refuse', 'hang' or 'unreachable'"})
                    return
                proxy.set_state(mode)
                print(f"{time.strftime('%H:%M:%S')} link down ({mode})", flush=True)
                self.send(200, proxy.status())
            elif self.path == "/delay":
                proxy.delay_s = max(0.0, float(body.get("ms") or 0)) / 1000
                print(f"{time.strftime('%H:%M:%S')} delay {body.get('ms')} ms", flush=True)
                self.send(200, proxy.status())
            elif self.path == "/record":
                proxy.record(bool(body.get("on", True)))
                self.send(200, proxy.status())
            elif self.path == "/up":
                proxy.set_state("up")
                print(f"{time.strftime('%H:%M:%S')} link up", flush=True)
                self.send(200, proxy.status())
            else:
                self.send(404, {})

    return Handler


def serve(target: str, port_file: Path) -> None:
    proxy = Proxy(target)
    control = control_server(_control(proxy))
    serve_in_background(control)
    announce(port_file, proxy=proxy.port, control=control.server_address[1])
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


class RedisProxy(Sidecar):
    """``faults = ["redis"]``: the service's ``REDIS_URL`` goes through a proxy the checks
    can cut (``LAB_REDIS_PROXY_URL``, the ``redis_link`` fixture)."""

    key = "faults"
    order = 20
    fixture = "redis_link"

    @classmethod
    def wanted(cls, lab: Any) -> bool:
        return "redis" in getattr(lab, "faults", ())

    def start(self) -> None:
        self.redis_url = self.ctx.env["REDIS_URL"]
        self.helper = self.spawn("Redis fault proxy", "checker.sidecars.redis_proxy",
                                 [target_of(self.redis_url)], stem="redis-proxy")  # fmt: skip

    def urls(self) -> tuple[str, str]:
        """(the proxied Redis URL for the service, the control URL for the checks)."""
        ports = self.helper.ports()
        return through(self.redis_url, ports["proxy"]), self.helper.url()

    def exports(self) -> Exports:
        proxied, control = self.urls()
        return Exports(service={"REDIS_URL": proxied}, checks={"LAB_REDIS_PROXY_URL": control})

    @staticmethod
    def provide():
        """The service's link to Redis (through the run's fault proxy); restored afterwards."""
        from ..observe.redis import RedisLink

        link = RedisLink(checks_env("LAB_REDIS_PROXY_URL"))
        try:
            yield link
        finally:
            link.restore()


def launch(redis_url: str, *, run_dir: Path, env: dict[str, str]) -> RedisProxy:
    """A proxy outside a run (tests): started, not yet awaited."""
    from types import SimpleNamespace

    from .base import Context

    lab = SimpleNamespace(faults=("redis",))
    sidecar = RedisProxy(Context(lab, run_dir, run_dir, {**env, "REDIS_URL": redis_url}))
    sidecar.start()
    return sidecar


SIDECAR = RedisProxy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m checker.sidecars.redis_proxy")
    parser.add_argument("target", help="host:port or a unix socket path")
    parser.add_argument("--port-file", type=Path, required=True)
    args = parser.parse_args(argv)
    serve(args.target, args.port_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Sinks: small HTTP services the checker runs in place of third-party providers.

A lab that declares ``sinks = ["email"]`` in its lab.toml gets, for every run, one sink
process per name: a stand-in for the email (or payment) provider the learner's code
calls. The service and its worker find it as ``<NAME>_PROVIDER_URL`` (``EMAIL_PROVIDER_URL``)
and may call any path under it; the hidden checks reach it through the ``sinks``
fixture (``checker.observe.sinks.Sink``).

What a sink does with a call (any method, any path not under ``/_sink/``):

* records it: method, path, headers, body (JSON if it parses), and its **key**: the
  ``Idempotency-Key`` header, else the body's ``idempotency_key``, ``order_id`` or
  ``id`` field (the first present), so deliveries can be counted per id;
* answers ``200`` with ``{"id": "<name>_<n>", "key": ..., "status": "delivered"}``,
  unless a fault was ordered. Faults, ordered through the control API:
  ``error`` answers an HTTP error (503 by default) and delivers nothing; ``timeout``
  holds the call for ``delay`` seconds (longer than any caller waits), then answers 504,
  and delivers nothing unless ``deliver`` is set (a provider that did the work but
  whose answer was lost); ``slow`` holds the call ``delay`` seconds, then does the work
  and answers 200 as usual (a slow provider widens any race in the caller); ``hang``
  holds the call until the checks release it (``release``, ``recover``), then answers
  like ``timeout``; ``redirect`` answers ``status`` (302) with a ``location``;
  ``respond`` answers chosen bytes (``body`` text or ``body_b64``) with a chosen
  ``content_type`` and ``status`` (``repeat`` times over: a huge body). An ``error`` may carry ``retry_after`` (seconds, sent
  as ``Retry-After``). A fault with ``per_key`` = k is spent only by one of a key's first k
  calls (later calls of that key pass): N clients each failing k times, whatever the
  order their calls and retries interleave in. ``n`` faults are queued, or ``always`` until ``recover``;
* with ``latency`` set (``POST /_sink/config``), holds every call that many seconds
  before answering (a provider that is always a little slow);
* keeps what arrived as it arrived: the raw body (``raw_b64``), the headers in order and
  case (``raw_headers``), the arrival and answer times (``at``, ``answered_at``), and
  how many calls were in flight then (``in_flight``); ``GET /_sink/stats`` gives the
  most in flight at once (``max_in_flight``);
* with ``idempotency`` on (``POST /_sink/config``), honours idempotency keys as Stripe
  or an email API does: a call whose ``Idempotency-Key`` header (or body
  ``idempotency_key``) was already delivered is a *replay*: answered like the first,
  recorded with outcome ``replay``, and not delivered again. Off by default, and after
  a reset: a sink counts every call.

Control API (JSON; used by the checks, never by the learner's code):
``GET /_sink/health``, ``GET /_sink/calls``, ``POST /_sink/fail`` (``{"n": 2, "mode":
"error", "status": 503, "delay": 30, "deliver": false, "always": false}``),
``POST /_sink/release`` (answer held calls now), ``POST /_sink/recover`` (drop queued
faults, release held calls), ``POST /_sink/config`` (``{"idempotency": true,
"latency": 0.2}``), ``GET /_sink/stats``, ``POST /_sink/reset`` (all that, and forget
every call).

Run as ``python -m checker.sidecars.sinks NAME --port-file FILE``: it binds a free port
of 127.0.0.1 and announces it in FILE once it listens (``checker.sidecars.base``), so
the runner never races another program for a port. Standard library only: it starts in
a few tens of ms.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import re
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from .base import Context, ControlHandler, Exports, Sidecar, announce, control_server

#: Body fields that name what a call is about, in order of preference.
KEY_FIELDS = ("idempotency_key", "order_id", "id")
#: How long a ``timeout`` fault holds a call by default: longer than any caller waits.
DEFAULT_HOLD_S = 30.0
#: How long a ``hang`` fault holds a call at most, if the checks never release it.
MAX_HANG_S = 300.0
MODES = ("error", "timeout", "slow", "hang", "redirect", "respond")
MAX_BODY = 1_000_000
NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def env_var(name: str) -> str:
    """The environment variable the service and the worker find a sink's URL in."""
    return f"{name.upper()}_PROVIDER_URL"


class _State:
    def __init__(self, name: str) -> None:
        self.name = name
        self.lock = threading.Lock()
        self.calls: list[dict[str, Any]] = []
        self.faults: deque[dict[str, Any]] = deque()
        self.always: dict[str, Any] | None = None
        self.release = threading.Event()  # set: held calls answer now
        self.idempotency = False  # honour idempotency keys (replay instead of deliver)
        self.latency = 0.0  # seconds every call is held before its answer
        self.in_flight = 0
        self.max_in_flight = 0

    def next_fault(self, key: str | None = None) -> dict[str, Any] | None:
        if self.faults:
            per_key = int(self.faults[0].get("per_key") or 0)
            if per_key and sum(c["key"] == key for c in self.calls) >= per_key:
                return None  # a fault for a key's first calls only: this one is past them
            return self.faults.popleft()
        return self.always

    def release_held(self) -> None:
        self.release.set()
        self.release = threading.Event()

    def recover(self) -> None:
        self.faults.clear()
        self.always = None
        self.release_held()


def _delivers(fault: dict[str, Any] | None) -> bool:
    """Does a call answered with this fault do the provider's work?"""
    if fault is None or fault["mode"] == "slow":
        return True
    if fault["mode"] == "respond":
        return 200 <= int(fault.get("status") or 200) < 300
    return bool(fault.get("deliver"))


def _key_of(headers: dict[str, str], body: Any) -> tuple[str | None, bool]:
    """(the call's key, whether it is an idempotency key the caller chose)."""
    if headers.get("idempotency-key"):
        return headers["idempotency-key"], True
    if isinstance(body, dict):
        for field in KEY_FIELDS:
            if body.get(field) not in (None, ""):
                return str(body[field]), field == "idempotency_key"
    return None, False


class _Handler(ControlHandler):
    server_version = "BackendLabSink/1"
    state: _State  # set on the subclass made in serve()

    def _send(self, status: int, payload: Any) -> None:
        self.send(status, payload)

    def _body(self) -> tuple[bytes, Any]:
        raw = self.raw_body(MAX_BODY)
        try:
            return raw, json.loads(raw) if raw else None
        except ValueError:
            return raw, raw.decode("utf-8", errors="replace")

    def _handle(self) -> None:
        raw, body = self._body()
        if self.path.startswith("/_sink/"):
            self._control(body)
        else:
            self._deliver(raw, body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    # -- calls from the learner's code ------------------------------------------
    def _deliver(self, raw: bytes, body: Any) -> None:
        st = self.state
        headers = {k.lower(): v for k, v in self.headers.items()}
        key, chosen = _key_of(headers, body)
        with st.lock:
            first = None
            if st.idempotency and chosen:
                first = next((c for c in st.calls if c["key"] == key and c["delivered"]), None)
            fault = None if first else st.next_fault(key)
            release, latency = st.release, st.latency
            st.in_flight += 1
            st.max_in_flight = max(st.max_in_flight, st.in_flight)
            mode = fault["mode"] if fault else None
            call = {
                "n": len(st.calls) + 1,
                "method": self.command,
                "path": self.path,
                "key": key,
                "headers": headers,
                "raw_headers": [[k, v] for k, v in self.headers.items()],
                "body": body,
                "raw_b64": base64.b64encode(raw).decode(),
                "at": time.time(),
                "answered_at": None,
                "in_flight": st.in_flight,
                "outcome": "replay" if first else mode or "ok",
                "delivered": first is None and _delivers(fault),
            }
            st.calls.append(call)
        print(f"{call['n']} {self.command} {self.path} key={call['key']} "
              f"outcome={call['outcome']}", flush=True)  # fmt: skip
        try:
            if latency:
                time.sleep(latency)
            self._answer(call, first, fault, release)
        finally:
            with st.lock:
                st.in_flight -= 1
                call["answered_at"] = time.time()

    def _answer(self, call: dict[str, Any], first: dict[str, Any] | None,
                fault: dict[str, Any] | None, release: threading.Event) -> None:  # fmt: skip
        st, key = self.state, call["key"]
        mode = fault["mode"] if fault else None
        if first is not None:
            self._send(200, {"id": f"{st.name}_{first['n']}", "key": key, "status": "delivered"})
        elif mode in (None, "slow"):
            if mode == "slow":
                release.wait(float(fault.get("delay") or 0))
            self._send(200, {"id": f"{st.name}_{call['n']}", "key": key, "status": "delivered"})
        elif mode in ("timeout", "hang"):
            hold = MAX_HANG_S if mode == "hang" else float(fault.get("delay") or DEFAULT_HOLD_S)
            release.wait(hold)
            self._send(504, {"title": "Provider timed out", "status": 504})
        elif mode == "redirect":
            self.send(int(fault.get("status") or 302), {"title": "Moved"},
                      {"Location": str(fault.get("location") or "/")})  # fmt: skip
        elif mode == "respond":
            self._send_raw(fault)
        else:
            status = int(fault.get("status") or 503)
            extra = {}
            if fault.get("retry_after") is not None:
                extra["Retry-After"] = str(fault["retry_after"])
            self.send(status, {"title": "Provider unavailable", "status": status}, extra)

    def _send_raw(self, fault: dict[str, Any]) -> None:
        if fault.get("body_b64") is not None:
            data = base64.b64decode(fault["body_b64"])
        else:
            data = str(fault.get("body") or "").encode()
        repeat = max(1, int(fault.get("repeat") or 1))  # a huge body from a small order
        with contextlib.suppress(OSError):
            self.send_response(int(fault.get("status") or 200))
            self.send_header("Content-Type", str(fault.get("content_type") or "text/plain"))
            self.send_header("Content-Length", str(len(data) * repeat))
            self.end_headers()
            for _ in range(repeat):
                self.wfile.write(data)

    # -- the checks' control API -------------------------------------------------
    def _control(self, body: Any) -> None:
        st = self.state
        action = self.path.removeprefix("/_sink/").split("?")[0]
        with st.lock:
            if action == "health":
                self._send(200, {"name": st.name, "status": "ok"})
            elif action == "calls":
                self._send(200, st.calls)
            elif action == "stats":
                self._send(200, {"calls": len(st.calls), "in_flight": st.in_flight,
                                 "max_in_flight": st.max_in_flight})  # fmt: skip
            elif action == "fail" and self.command == "POST":
                fault = dict(body or {})
                if fault.get("mode", "error") not in MODES:
                    self._send(400, {"title": f"mode must be one of {', '.join(MODES)}"})
                    return
                fault.setdefault("mode", "error")
                if fault.get("always"):
                    st.always = fault
                else:
                    st.faults.extend(dict(fault) for _ in range(int(fault.get("n", 1))))
                self._send(200, {"queued": len(st.faults), "always": st.always is not None})
            elif action == "release" and self.command == "POST":
                st.release_held()
                self._send(200, {"status": "ok"})
            elif action == "recover" and self.command == "POST":
                st.recover()
                self._send(200, {"status": "ok"})
            elif action == "config" and self.command == "POST":
                config = body if isinstance(body, dict) else {}
                st.idempotency = bool(config.get("idempotency", st.idempotency))
                st.latency = max(0.0, float(config.get("latency", st.latency) or 0))
                self._send(200, {"idempotency": st.idempotency, "latency": st.latency})
            elif action == "reset" and self.command == "POST":
                st.recover()
                st.calls.clear()
                st.idempotency, st.latency = False, 0.0
                st.max_in_flight = st.in_flight
                self._send(200, {"status": "ok"})
            else:
                self._send(404, {"title": f"no control action {action!r}"})


def serve(name: str, port_file: Path | None = None, port: int = 0) -> None:
    handler = type("Handler", (_Handler,), {"state": _State(name)})
    server = control_server(handler, port)
    bound = server.server_address[1]
    if port_file is not None:
        announce(port_file, control=bound)
    print(f"sink {name} listening on 127.0.0.1:{bound}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever(poll_interval=0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m checker.sidecars.sinks", description=__doc__)
    parser.add_argument("name")
    parser.add_argument("--port-file", type=Path)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    if not NAME.match(args.name):
        parser.error(f"sink name {args.name!r}: lowercase letters, digits and underscores")
    serve(args.name, args.port_file, args.port)
    return 0


# ---------------------------------------------------------------- runner side


class Sinks(Sidecar):
    """``sinks = ["email", ...]``: one sink process per name, started before the
    database is provisioned. The service finds each as ``<NAME>_PROVIDER_URL``; the
    checks get them all as ``LAB_SINKS`` (JSON) and the ``sinks`` fixture."""

    key = "sinks"
    order = 10
    early = True
    fixture = "sinks"
    phase = "provider sinks"

    def start(self) -> None:
        for name in self.ctx.lab.sinks:
            self.spawn(f"{name!r} provider sink", "checker.sidecars.sinks", [name],
                       stem=f"sink-{name}")  # fmt: skip

    def urls(self) -> dict[str, str]:
        """Each sink's URL by name, once every one listens."""
        return {h.stem.removeprefix("sink-"): h.url() for h in self.helpers}

    def exports(self) -> Exports:
        by_name = self.urls()
        return Exports(
            service={env_var(name): url for name, url in by_name.items()},
            checks={"LAB_SINKS": json.dumps(by_name)},
        )

    @staticmethod
    def provide():
        """The run's provider sinks by name, each reset (no calls, no faults) for this test."""
        import os

        from ..observe.sinks import Sink

        declared = json.loads(os.environ.get("LAB_SINKS") or "{}")
        if not declared:
            raise RuntimeError("this lab declares no sinks (lab.toml: sinks = [...])")
        opened = {name: Sink(name, url) for name, url in declared.items()}
        try:
            for sink in opened.values():
                sink.reset()
            yield opened
        finally:
            for sink in opened.values():
                sink.close()


def launch(names: list[str] | tuple[str, ...], *, run_dir: Path, env: dict[str, str]) -> Sinks:
    """Sinks outside a run (tests, notebooks): started, not yet awaited."""
    from types import SimpleNamespace

    sidecar = Sinks(Context(SimpleNamespace(sinks=tuple(names)), run_dir, run_dir, env))
    sidecar.start()
    return sidecar


SIDECAR = Sinks

if __name__ == "__main__":
    sys.exit(main())

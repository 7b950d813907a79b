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
  and answers 200 as usual (a slow provider widens any race in the caller). ``n``
  faults are queued, or ``always`` until ``recover``;
* with ``idempotency`` on (``POST /_sink/config``), honours idempotency keys as Stripe
  or an email API does: a call whose ``Idempotency-Key`` header (or body
  ``idempotency_key``) was already delivered is a *replay*: answered like the first,
  recorded with outcome ``replay``, and not delivered again. Off by default, and after
  a reset: a sink counts every call.

Control API (JSON; used by the checks, never by the learner's code):
``GET /_sink/health``, ``GET /_sink/calls``, ``POST /_sink/fail`` (``{"n": 2, "mode":
"error", "status": 503, "delay": 30, "deliver": false, "always": false}``),
``POST /_sink/recover`` (drop queued faults, release held calls), ``POST /_sink/config``
(``{"idempotency": true}``), ``POST /_sink/reset`` (all that, and forget every call).

Run as ``python -m checker.sidecars.sinks NAME --port-file FILE``: it binds a free port
of 127.0.0.1 and announces it in FILE once it listens (``checker.sidecars.base``), so
the runner never races another program for a port. Standard library only: it starts in
a few tens of ms.
"""

from __future__ import annotations

import argparse
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

    def next_fault(self) -> dict[str, Any] | None:
        if self.faults:
            return self.faults.popleft()
        return self.always

    def recover(self) -> None:
        self.faults.clear()
        self.always = None
        self.release.set()
        self.release = threading.Event()


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
            self._deliver(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    # -- calls from the learner's code ------------------------------------------
    def _deliver(self, body: Any) -> None:
        st = self.state
        headers = {k.lower(): v for k, v in self.headers.items()}
        key, chosen = _key_of(headers, body)
        with st.lock:
            first = None
            if st.idempotency and chosen:
                first = next((c for c in st.calls if c["key"] == key and c["delivered"]), None)
            fault = None if first else st.next_fault()
            release = st.release
            call = {
                "n": len(st.calls) + 1,
                "method": self.command,
                "path": self.path,
                "key": key,
                "headers": headers,
                "body": body,
                "at": time.time(),
                "outcome": "replay" if first else fault["mode"] if fault else "ok",
                "delivered": first is None
                and (fault is None or fault["mode"] == "slow" or bool(fault.get("deliver"))),
            }
            st.calls.append(call)
        print(f"{call['n']} {self.command} {self.path} key={call['key']} "
              f"outcome={call['outcome']}", flush=True)  # fmt: skip
        if first is not None:
            self._send(200, {"id": f"{st.name}_{first['n']}", "key": key, "status": "delivered"})
        elif fault is None:
            self._send(200, {"id": f"{st.name}_{call['n']}", "key": call["key"],
                             "status": "delivered"})  # fmt: skip
        elif fault["mode"] == "slow":
            release.wait(float(fault.get("delay") or 0))
            self._send(200, {"id": f"{st.name}_{call['n']}", "key": call["key"],
                             "status": "delivered"})  # fmt: skip
        elif fault["mode"] == "timeout":
            release.wait(float(fault.get("delay") or DEFAULT_HOLD_S))
            self._send(504, {"title": "Provider timed out", "status": 504})
        else:
            status = int(fault.get("status") or 503)
            self._send(status, {"title": "Provider unavailable", "status": status})

    # -- the checks' control API -------------------------------------------------
    def _control(self, body: Any) -> None:
        st = self.state
        action = self.path.removeprefix("/_sink/").split("?")[0]
        with st.lock:
            if action == "health":
                self._send(200, {"name": st.name, "status": "ok"})
            elif action == "calls":
                self._send(200, st.calls)
            elif action == "fail" and self.command == "POST":
                fault = dict(body or {})
                if fault.get("mode", "error") not in ("error", "timeout", "slow"):
                    self._send(400, {"title": "mode must be 'error', 'timeout' or 'slow'"})
                    return
                fault.setdefault("mode", "error")
                if fault.get("always"):
                    st.always = fault
                else:
                    st.faults.extend(dict(fault) for _ in range(int(fault.get("n", 1))))
                self._send(200, {"queued": len(st.faults), "always": st.always is not None})
            elif action == "recover" and self.command == "POST":
                st.recover()
                self._send(200, {"status": "ok"})
            elif action == "config" and self.command == "POST":
                st.idempotency = bool((body or {}).get("idempotency", st.idempotency))
                self._send(200, {"idempotency": st.idempotency})
            elif action == "reset" and self.command == "POST":
                st.recover()
                st.calls.clear()
                st.idempotency = False
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

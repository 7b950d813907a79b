"""A mitmproxy addon: the faults of lab 13's checks, played by mitmproxy instead of our sinks.

Loaded by benchmarks/resilience_verify.py into ``mitmdump`` (its own interpreter, from
mitmproxy's own virtualenv: nothing here imports the checker). mitmdump runs one
reverse-proxy mode per provider, each on a port of its own; a provider is named here by
that port. Each port also answers a tiny control API of its own (never forwarded):

* ``POST /_fault`` ``{"mode": "hang" | "slow" | "error", "n": 2 (or null: always),
  "status": 503, "retry_after": 1, "delay": 0.8, "stage": "proxy" | "upstream"}``:
  ``hang`` holds the call until ``/_recover`` (or until the caller hangs up), ``slow``
  holds it ``delay`` seconds then forwards it, ``error`` answers ``status`` itself
  (``stage`` proxy: the upstream never hears of it) or forwards the call and replaces
  the upstream's answer (``stage`` upstream: the upstream counts it);
* ``POST /_recover``: no more faults, held calls go on to the upstream;
* ``POST /_reset``: that, and forget the counts;
* ``GET /_stats``: ``{"flows": [{"path", "at"}], "in_flight": k, "peak": p}``. A call is
  in flight from its request headers until its response is sent, or until the caller
  closed its connection (a caller that timed out no longer waits on it).
"""

from __future__ import annotations

import asyncio
import json
import time

from mitmproxy import http
from mitmproxy.connection import ConnectionState

CONTROL = "/_"
POLL_S = 0.02
MAX_HOLD_S = 60.0


def _gone(flow: http.HTTPFlow) -> bool:
    """The caller hung up (a timeout on its side): nobody waits on this call any more."""
    return not (flow.client_conn.state & ConnectionState.CAN_READ)


class Provider:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.fault: dict | None = None
        self.left: int | None = None
        self.generation = 0
        self.flows: list[dict] = []
        self.live_flows: dict[int, http.HTTPFlow] = {}
        self.peak = 0

    def in_flight(self) -> int:
        for key in [k for k, f in self.live_flows.items() if _gone(f)]:
            self.done(key)
        return len(self.live_flows)

    def done(self, key: int) -> None:
        self.live_flows.pop(key, None)

    def take_fault(self) -> dict | None:
        if self.fault is None:
            return None
        if self.left is not None:
            if self.left <= 0:
                return None
            self.left -= 1
        return self.fault


class Faults:
    def __init__(self) -> None:
        self.providers: dict[int, Provider] = {}

    def provider(self, flow: http.HTTPFlow) -> Provider:
        return self.providers.setdefault(flow.client_conn.sockname[1], Provider())

    # ------------------------------------------------------------ hooks

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if flow.request.path.startswith(CONTROL):
            return
        p = self.provider(flow)
        p.flows.append({"path": flow.request.path, "at": time.time()})
        p.live_flows[id(flow)] = flow
        p.peak = max(p.peak, p.in_flight())

    async def request(self, flow: http.HTTPFlow) -> None:
        p = self.provider(flow)
        if flow.request.path.startswith(CONTROL):
            flow.response = self._control(p, flow)
            return
        fault = p.take_fault()
        if fault is None:
            return
        mode = fault.get("mode")
        if mode == "hang":
            await self._hold(p, flow, MAX_HOLD_S)
        elif mode == "slow":
            await self._hold(p, flow, float(fault.get("delay") or 0))
        elif mode == "error":
            if fault.get("stage") == "upstream":
                flow.metadata["replace"] = fault  # forwarded; its answer replaced
            else:
                flow.response = _error(fault)

    def response(self, flow: http.HTTPFlow) -> None:
        if flow.request.path.startswith(CONTROL):
            return
        fault = flow.metadata.get("replace")
        if fault is not None:
            flow.response = _error(fault)
        self.provider(flow).done(id(flow))

    def error(self, flow: http.HTTPFlow) -> None:
        self.provider(flow).done(id(flow))

    # ------------------------------------------------------------ internals

    async def _hold(self, p: Provider, flow: http.HTTPFlow, seconds: float) -> None:
        generation, end = p.generation, time.monotonic() + seconds
        while time.monotonic() < end and p.generation == generation and not _gone(flow):
            await asyncio.sleep(POLL_S)

    def _control(self, p: Provider, flow: http.HTTPFlow) -> http.Response:
        what = flow.request.path.split("?")[0]
        if what == "/_fault":
            order = json.loads(flow.request.get_text() or "{}")
            p.fault, p.left = order, order.get("n")
        elif what in ("/_recover", "/_reset"):
            p.fault, p.left = None, None
            p.generation += 1
            if what == "/_reset":
                generation = p.generation
                p.reset()
                p.generation = generation
        elif what != "/_stats":
            return http.Response.make(404, b"no such control path")
        body = {"flows": p.flows, "in_flight": p.in_flight(), "peak": p.peak}
        return http.Response.make(200, json.dumps(body), {"content-type": "application/json"})


def _error(fault: dict) -> http.Response:
    headers = {"content-type": "application/json"}
    if fault.get("retry_after") is not None:
        headers["retry-after"] = str(fault["retry_after"])
    status = int(fault.get("status") or 503)
    return http.Response.make(status, json.dumps({"error": f"mitmproxy says {status}"}), headers)


addons = [Faults()]

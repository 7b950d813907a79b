"""An OpenTelemetry collector stand-in: the spans the learner's service exports.

``collector = true`` in lab.toml starts, for every run, one small OTLP/HTTP receiver
(OTLP 1.x, the OpenTelemetry protocol over HTTP). The service finds it where every
OpenTelemetry SDK looks, ``OTEL_EXPORTER_OTLP_ENDPOINT``: an exporter configured from
the environment sends ``POST /v1/traces`` there, protobuf-encoded
(``application/x-protobuf``) or JSON-encoded (``application/json``), gzipped or not.
``/v1/metrics`` and ``/v1/logs`` are accepted and dropped.

What it does with an export:

* keeps it as it arrived (bytes, content type, arrival time), and answers as a
  collector does: ``200`` with an empty ``ExportTraceServiceResponse`` in the request's
  encoding; a body that is not OTLP gets ``400`` and is counted as ``rejected``;
* decodes it only when the checks ask (protobuf with ``opentelemetry-proto``, imported
  then, so the sidecar itself starts on the standard library in tens of ms): every span
  flattened to JSON, ids in lowercase hex as W3C Trace Context writes them, ``kind`` by
  name (``SERVER``, ``CLIENT``...), attributes and resource attributes as plain values.

Control API (JSON; used by the checks, never by the learner's code):
``GET /_collector/health``, ``GET /_collector/spans`` (``{"spans": [...],
"exports": n, "exports_ever": n, "rejected": [...]}``: ``exports_ever`` counts the
exports since the collector started, resets or not), ``POST /_collector/reset`` (forget
what arrived).
The checks get it as ``LAB_COLLECTOR`` and through the ``collector`` fixture
(:class:`Collector`: ``spans()``, ``wait_for(predicate)``, ``reset()``).

Run as ``python -m checker.sidecars.collector --port-file FILE``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import gzip
import json
import sys
import threading
import time
import zlib
from pathlib import Path
from typing import Any

from .base import Context, ControlHandler, Exports, Sidecar, announce, control_server

MAX_BODY = 8_000_000
KINDS = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}
STATUS = {0: "UNSET", 1: "OK", 2: "ERROR"}
SIGNALS = ("/v1/traces", "/v1/metrics", "/v1/logs")

# ---------------------------------------------------------------- decoding OTLP


def _value(v: Any) -> Any:
    """An OTLP AnyValue (a protobuf message or its JSON form) as a plain value."""
    if isinstance(v, dict):  # JSON: {"stringValue": "x"}, {"intValue": "201"} ...
        for key, value in v.items():
            if key == "intValue":
                return int(value)
            if key == "doubleValue":
                return float(value)
            if key == "arrayValue":
                return [_value(x) for x in (value or {}).get("values", [])]
            if key == "kvlistValue":
                return _attributes((value or {}).get("values", []))
            return value
        return None
    which = v.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [_value(x) for x in v.array_value.values]
    if which == "kvlist_value":
        return _attributes(v.kvlist_value.values)
    if which == "bytes_value":
        return base64.b64encode(v.bytes_value).decode()
    return getattr(v, which)


def _attributes(kvs: Any) -> dict[str, Any]:
    if kvs and isinstance(kvs[0], dict):
        return {kv.get("key", ""): _value(kv.get("value") or {}) for kv in kvs}
    return {kv.key: _value(kv.value) for kv in kvs}


def _hex(v: Any) -> str:
    """An id: protobuf bytes, or OTLP/JSON's hex string (base64 tolerated)."""
    if isinstance(v, bytes):
        return v.hex()
    text = str(v or "")
    if text and len(text) in (16, 32) and all(c in "0123456789abcdefABCDEF" for c in text):
        return text.lower()
    with contextlib.suppress(ValueError):
        return base64.b64decode(text, validate=True).hex()
    return text


def _enum(v: Any, names: dict[int, str], prefix: str) -> str:
    if isinstance(v, str) and not v.isdigit():
        return v.removeprefix(prefix)
    return names.get(int(v or 0), str(v))


def _protobuf_spans(raw: bytes) -> list[dict[str, Any]]:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    request = ExportTraceServiceRequest()
    request.ParseFromString(raw)
    out = []
    for rs in request.resource_spans:
        resource = _attributes(rs.resource.attributes)
        for ss in rs.scope_spans:
            for s in ss.spans:
                out.append({
                    "trace_id": s.trace_id.hex(), "span_id": s.span_id.hex(),
                    "parent_span_id": s.parent_span_id.hex(), "name": s.name,
                    "kind": KINDS.get(s.kind, str(s.kind)),
                    "attributes": _attributes(s.attributes),
                    "start_ns": s.start_time_unix_nano, "end_ns": s.end_time_unix_nano,
                    "status": STATUS.get(s.status.code, str(s.status.code)),
                    "trace_state": s.trace_state, "resource": resource, "scope": ss.scope.name,
                })  # fmt: skip
    return out


def _json_spans(doc: Any) -> list[dict[str, Any]]:
    out = []
    for rs in doc.get("resourceSpans") or doc.get("resource_spans") or []:
        res = rs.get("resource") or {}
        resource = _attributes(res.get("attributes") or [])
        for ss in rs.get("scopeSpans") or rs.get("scope_spans") or []:
            for s in ss.get("spans") or []:
                status = (s.get("status") or {}).get("code", 0)
                out.append({
                    "trace_id": _hex(s.get("traceId")), "span_id": _hex(s.get("spanId")),
                    "parent_span_id": _hex(s.get("parentSpanId")), "name": s.get("name", ""),
                    "kind": _enum(s.get("kind", 0), KINDS, "SPAN_KIND_"),
                    "attributes": _attributes(s.get("attributes") or []),
                    "start_ns": int(s.get("startTimeUnixNano") or 0),
                    "end_ns": int(s.get("endTimeUnixNano") or 0),
                    "status": _enum(status, STATUS, "STATUS_CODE_"),
                    "trace_state": s.get("traceState", ""), "resource": resource,
                    "scope": (ss.get("scope") or {}).get("name", ""),
                })  # fmt: skip
    return out


def decode(content_type: str, raw: bytes) -> list[dict[str, Any]]:
    """The spans of one ``/v1/traces`` export; raises ValueError if it is not OTLP."""
    if "json" in content_type:
        doc = json.loads(raw)
        if not isinstance(doc, dict):
            raise ValueError("an OTLP/JSON export is a JSON object")
        return _json_spans(doc)
    from google.protobuf.message import DecodeError

    try:
        return _protobuf_spans(raw)
    except DecodeError as exc:
        raise ValueError(f"not an OTLP protobuf ExportTraceServiceRequest: {exc}") from None


# ---------------------------------------------------------------- the sidecar process


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.exports: list[dict[str, Any]] = []  # raw /v1/traces bodies, as they arrived
        self.decoded: list[dict[str, Any]] = []  # their spans, decoded when asked for
        self.rejected: list[str] = []
        self.seen = 0  # exports decoded so far
        self.total = 0  # /v1/traces exports since the collector started, resets or not


class _Handler(ControlHandler):
    server_version = "BackendLabCollector/1"
    state: _State

    def _body(self) -> bytes:
        raw = self.raw_body(MAX_BODY)
        encoding = (self.headers.get("Content-Encoding") or "").lower()
        if encoding == "gzip":
            return gzip.decompress(raw)
        if encoding == "deflate":
            return zlib.decompress(raw)
        return raw

    def do_POST(self) -> None:
        path = self.path.split("?")[0]
        if path.startswith("/_collector/"):
            self._control(path.removeprefix("/_collector/"))
            return
        content_type = (self.headers.get("Content-Type") or "application/x-protobuf").lower()
        try:
            raw = self._body()
        except (OSError, EOFError, zlib.error):
            self.send(400, {"message": "the body is not valid gzip"})
            return
        if path not in SIGNALS:
            self.send(404, {"message": f"no OTLP endpoint {path}: use /v1/traces"})
            return
        if path == "/v1/traces":
            with self.state.lock:
                self.state.exports.append({"type": content_type, "raw": raw, "at": time.time()})
                self.state.total += 1
            print(f"export {len(raw)} bytes {content_type}", flush=True)
        # An empty Export*ServiceResponse: zero bytes in protobuf, {} in JSON.
        data, answer_type = (b"{}", "application/json") if "json" in content_type else (
            b"", "application/x-protobuf")  # fmt: skip
        with contextlib.suppress(OSError):
            self.send_response(200)
            self.send_header("Content-Type", answer_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path.startswith("/_collector/"):
            self._control(path.removeprefix("/_collector/"))
        else:
            self.send(405, {"message": "OTLP/HTTP takes POST"})

    def _control(self, action: str) -> None:
        st = self.state
        with st.lock:
            if action == "health":
                self.send(200, {"status": "ok"})
            elif action == "spans":
                for export in st.exports[st.seen :]:
                    try:
                        spans = decode(export["type"], export["raw"])
                    except ValueError as exc:
                        st.rejected.append(f"{export['type']}: {exc}")
                        continue
                    st.decoded.extend({**s, "received_at": export["at"]} for s in spans)
                st.seen = len(st.exports)
                self.send(200, {"spans": st.decoded, "exports": len(st.exports),
                                "exports_ever": st.total, "rejected": st.rejected})  # fmt: skip
            elif action == "reset" and self.command == "POST":
                st.exports.clear()
                st.decoded.clear()
                st.rejected.clear()
                st.seen = 0
                self.send(200, {"status": "ok"})
            else:
                self.send(404, {"message": f"no control action {action!r}"})


def serve(port_file: Path | None = None, port: int = 0) -> None:
    handler = type("Handler", (_Handler,), {"state": _State()})
    server = control_server(handler, port)
    bound = server.server_address[1]
    if port_file is not None:
        announce(port_file, control=bound)
    print(f"collector listening on 127.0.0.1:{bound}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever(poll_interval=0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m checker.sidecars.collector", description=__doc__
    )
    parser.add_argument("--port-file", type=Path)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    serve(args.port_file, args.port)
    return 0


# ---------------------------------------------------------------- the checks' side


class Collector:
    """The run's collector, as the checks see it."""

    def __init__(self, url: str) -> None:
        import httpx

        self.url = url
        self._http = httpx.Client(base_url=url, timeout=10)

    def spans(self) -> list[dict[str, Any]]:
        """Every span exported since the last reset, in arrival order."""
        return self.status()["spans"]

    def status(self) -> dict[str, Any]:
        """``spans``, how many ``exports`` arrived (``exports_ever``: since the collector
        started, resets or not), and why any was ``rejected``."""
        r = self._http.get("/_collector/spans")
        r.raise_for_status()
        return r.json()

    def wait_for(self, done, timeout: float = 3.0, every: float = 0.05) -> list[dict[str, Any]]:
        """The spans, once ``done(spans)`` is true or ``timeout`` passed."""
        deadline = time.monotonic() + timeout
        while True:
            spans = self.spans()
            if done(spans) or time.monotonic() > deadline:
                return spans
            time.sleep(every)

    def reset(self) -> None:
        self._http.post("/_collector/reset").raise_for_status()

    def close(self) -> None:
        self._http.close()


class OtlpCollector(Sidecar):
    """``collector = true``: one OTLP/HTTP receiver per run. The service finds it as
    ``OTEL_EXPORTER_OTLP_ENDPOINT``; the checks as ``LAB_COLLECTOR`` and the
    ``collector`` fixture."""

    key = "collector"
    order = 12
    early = True
    fixture = "collector"
    phase = "OTLP collector"

    def start(self) -> None:
        self.spawn("OTLP collector", "checker.sidecars.collector", [], stem="collector")

    def exports(self) -> Exports:
        url = self.helpers[0].url()
        return Exports(service={"OTEL_EXPORTER_OTLP_ENDPOINT": url},
                       checks={"LAB_COLLECTOR": url})  # fmt: skip

    @staticmethod
    def provide():
        """The run's collector, reset (no spans) for this test."""
        from .base import checks_env

        collector = Collector(checks_env("LAB_COLLECTOR"))
        try:
            collector.reset()
            yield collector
        finally:
            collector.close()


def launch(*, run_dir: Path, env: dict[str, str]) -> OtlpCollector:
    """A collector outside a run (tests): started, not yet awaited."""
    from types import SimpleNamespace

    sidecar = OtlpCollector(Context(SimpleNamespace(collector=True), run_dir, run_dir, env))
    sidecar.start()
    return sidecar


SIDECAR = OtlpCollector

if __name__ == "__main__":
    sys.exit(main())

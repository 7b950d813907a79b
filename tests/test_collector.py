"""checker.sidecars.collector: the OTLP/HTTP receiver takes what OpenTelemetry's own
exporter sends (protobuf, gzipped or not) and OTLP/JSON, and decodes both alike."""

from __future__ import annotations

import gzip
import json
import os

import httpx
import pytest

from checker.sidecars import collector as otlp

from .conftest import gone_within


@pytest.fixture
def running(tmp_path):
    sidecar = otlp.launch(run_dir=tmp_path, env=dict(os.environ))
    try:
        url = sidecar.exports().service["OTEL_EXPORTER_OTLP_ENDPOINT"]
        client = otlp.Collector(url)
        yield url, client
        client.close()
    finally:
        pid = sidecar.helpers[0].pid
        sidecar.stop()
        assert gone_within(pid)


def _export_with_the_sdk(url: str, compression) -> tuple[str, str, str]:
    """Two spans, SERVER then its CLIENT child, through the SDK's OTLP/HTTP exporter."""
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.trace import SpanKind

    provider = TracerProvider(resource=Resource.create({"service.name": "folio-test"}))
    exporter = OTLPSpanExporter(endpoint=f"{url}/v1/traces", compression=compression)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    server = tracer.start_span("POST /orders", kind=SpanKind.SERVER,
                               attributes={"http.route": "/orders"})  # fmt: skip
    in_server = trace.set_span_in_context(server)
    client = tracer.start_span("POST", context=in_server, kind=SpanKind.CLIENT)
    client.set_attribute("http.response.status_code", 200)
    client.end()
    server.end()
    provider.shutdown()
    ids = server.get_span_context(), client.get_span_context()
    return (
        format(ids[0].trace_id, "032x"),
        format(ids[0].span_id, "016x"),
        format(ids[1].span_id, "016x"),
    )


@pytest.mark.parametrize("gzipped", [False, True])
def test_spans_from_the_sdk_exporter_are_decoded(running, gzipped):
    from opentelemetry.exporter.otlp.proto.http import Compression

    url, collector = running
    trace_id, server_id, client_id = _export_with_the_sdk(
        url, Compression.Gzip if gzipped else Compression.NoCompression
    )
    spans = collector.wait_for(lambda s: len(s) == 2, timeout=5)
    by_id = {s["span_id"]: s for s in spans}
    assert set(by_id) == {server_id, client_id}, spans
    server, client = by_id[server_id], by_id[client_id]
    assert (server["kind"], server["name"], server["parent_span_id"]) == (
        "SERVER",
        "POST /orders",
        "",
    )
    assert server["attributes"] == {"http.route": "/orders"}
    assert server["resource"]["service.name"] == "folio-test"
    assert (client["kind"], client["trace_id"], client["parent_span_id"]) == (
        "CLIENT", trace_id, server_id)  # fmt: skip
    assert client["attributes"]["http.response.status_code"] == 200
    collector.reset()
    assert collector.spans() == []


def test_otlp_json_is_read_like_protobuf(running):
    url, collector = running
    trace_id, span_id, parent = (
        "5b8efff798038103d269b633813fc60c",
        "eee19b7ec3c1b174",
        "eee19b7ec3c1b173",
    )
    doc = {"resourceSpans": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "j"}}]},
        "scopeSpans": [{"scope": {"name": "s"}, "spans": [{
            "traceId": trace_id, "spanId": span_id, "parentSpanId": parent, "name": "POST",
            "kind": 3, "startTimeUnixNano": "1", "endTimeUnixNano": "2",
            "attributes": [{"key": "server.port", "value": {"intValue": "8080"}},
                           {"key": "ok", "value": {"boolValue": True}}],
            "status": {"code": 2}}]}]}]}  # fmt: skip
    r = httpx.post(f"{url}/v1/traces", content=gzip.compress(json.dumps(doc).encode()),
                   headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})  # fmt: skip
    assert r.status_code == 200 and r.json() == {}
    (span,) = collector.spans()
    assert (span["trace_id"], span["span_id"], span["parent_span_id"]) == (
        trace_id,
        span_id,
        parent,
    )
    assert span["kind"] == "CLIENT" and span["status"] == "ERROR"
    assert span["attributes"] == {"server.port": 8080, "ok": True}


def test_what_is_not_otlp_is_rejected_and_said(running):
    url, collector = running
    r = httpx.post(f"{url}/v1/traces", content=b"\xff\x00 not protobuf",
                   headers={"Content-Type": "application/x-protobuf"})  # fmt: skip
    assert r.status_code == 200  # answered like any export; judged when the checks read it
    status = collector.status()
    assert status["spans"] == [] and status["exports"] == 1
    assert status["rejected"] and "protobuf" in status["rejected"][0]
    assert httpx.post(f"{url}/v1/nothing", content=b"").status_code == 404

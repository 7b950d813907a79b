"""Runs the service in this process, on a brand-new database of its own, with stand-in
providers (tiny HTTP servers in threads that record every call and answer 200, or
whatever a test tells them to).

From the repository root: `pytest labs/13-resilience/tests`.
"""

import json
import os
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from checker.testing import fresh_database

LAB_DIR = Path(__file__).resolve().parents[1]
PROVIDERS = ("shipping", "payments", "warehouse")


class FakeProvider(BaseHTTPRequestHandler):
    calls: list[dict]
    answers: list[int]  # statuses to answer next (then 200)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.calls.append({"method": self.command, "path": self.path, "body": body,
                           "headers": dict(self.headers)})  # fmt: skip
        status = self.answers.pop(0) if self.answers else 200
        data = json.dumps({"id": f"call_{len(self.calls)}", "status": status}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _handle

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="session")
def providers() -> Iterator[dict[str, type[FakeProvider]]]:
    servers, handlers = [], {}
    for name in PROVIDERS:
        handler = type(name, (FakeProvider,), {"calls": [], "answers": []})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        os.environ[f"{name.upper()}_PROVIDER_URL"] = f"http://127.0.0.1:{server.server_port}"
        servers.append(server)
        handlers[name] = handler
    try:
        yield handlers
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


@pytest.fixture(scope="session")
def client(providers) -> Iterator[TestClient]:
    with fresh_database("resilience") as db_url:
        # The settings are read when the app is imported, so these must be set first.
        os.environ["DATABASE_URL"] = db_url
        sys.path.insert(0, str(LAB_DIR))
        from app.main import app

        with TestClient(app) as client:
            yield client


@pytest.fixture
def shipping(providers):
    providers["shipping"].answers.clear()
    return providers["shipping"]


@pytest.fixture
def warehouse(providers):
    providers["warehouse"].answers.clear()
    return providers["warehouse"]

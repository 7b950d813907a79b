"""Runs the service in this process, on a brand-new database and Redis of its own, with
a stand-in payment provider (a tiny HTTP server in a thread that records every charge).

From the repository root: `pytest labs/07-idempotency/tests`.
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

from checker.testing import fresh_database, fresh_redis

LAB_DIR = Path(__file__).resolve().parents[1]
CHARGES: list[dict] = []


class FakeProvider(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        CHARGES.append(body)
        data = json.dumps({"id": f"payments_{len(CHARGES)}"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="session")
def client() -> Iterator[TestClient]:
    provider = ThreadingHTTPServer(("127.0.0.1", 0), FakeProvider)
    threading.Thread(target=provider.serve_forever, daemon=True).start()
    try:
        with fresh_database("idempotency") as db_url, fresh_redis() as redis_url:
            # The settings are read when the app is imported, so these must be set first.
            os.environ["DATABASE_URL"] = db_url
            os.environ["REDIS_URL"] = redis_url
            os.environ["PAYMENTS_PROVIDER_URL"] = f"http://127.0.0.1:{provider.server_port}"
            sys.path.insert(0, str(LAB_DIR))
            from app.main import app

            with TestClient(app) as client:
                client.headers["Authorization"] = "Bearer sk_test_bookshop"
                yield client
    finally:
        provider.shutdown()
        provider.server_close()


@pytest.fixture
def charges() -> list[dict]:
    """The charges the provider received, in order."""
    return CHARGES

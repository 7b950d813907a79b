"""Runs the service in this process, on a brand-new database and Redis database, with a
stand-in payment provider (a tiny HTTP server in a thread that records every call).

From the repository root: `pytest labs/11-observability/tests`.
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


class FakePayments(BaseHTTPRequestHandler):
    calls: list[dict] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.calls.append({"path": self.path, "body": body, "headers": dict(self.headers)})
        data = json.dumps({"id": f"charge_{len(self.calls)}", "status": "succeeded"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="session")
def payments() -> Iterator[type[FakePayments]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakePayments)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ["PAYMENTS_PROVIDER_URL"] = f"http://127.0.0.1:{server.server_port}"
    try:
        yield FakePayments
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def client(payments) -> Iterator[TestClient]:
    with fresh_database("observability") as db_url, fresh_redis() as redis_url:
        # The settings are read when the app is imported, so the URLs must be set first.
        os.environ["DATABASE_URL"] = db_url
        os.environ["REDIS_URL"] = redis_url
        sys.path.insert(0, str(LAB_DIR))
        from app.main import app

        with TestClient(app) as client:
            yield client


@pytest.fixture(scope="session")
def token(client) -> str:
    credentials = {"email": "ada@example.org", "password": "correct horse battery"}
    assert client.post("/users", json=credentials).status_code == 201
    response = client.post("/login", json=credentials)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]

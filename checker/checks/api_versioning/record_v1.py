"""Records the released v1's session and OpenAPI, once: the replay's reference.

    python checker/checks/api_versioning/record_v1.py

runs the reference solution's v1 (the released contract) in this process on a fresh
database, sends SESSION's 40 requests, and writes `v1_session.json` (each request, its
status and its JSON body) and `v1_openapi.json` (the /v1 part of /openapi.json, with
the components it refers to) next to this file. Ids are recorded as names (`{b0}`): the
replay maps each to the id the learner's service gives the book it creates.
Run it again only if v1's released contract itself changes (it never should).
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

B = {"title": "The Fifth Season", "author": "N. K. Jemisin", "price": 25.99, "format": "hardcover"}
# (method, path, body, name the created book gets)
SESSION: list[tuple[str, str, dict | None, str | None]] = [
    ("GET", "/v1/books?page=1&per_page=5", None, None),
    ("POST", "/v1/books", B, "b0"),
    ("GET", "/v1/books/{b0}", None, None),
    (
        "POST",
        "/v1/books",
        {"title": "Ancillary Justice", "author": "Ann Leckie", "price": 9.5, "format": "ebook"},
        "b1",
    ),
    ("POST", "/v1/books", {"title": "Piranesi", "author": "Susanna Clarke", "price": 12}, "b2"),
    ("GET", "/v1/books/{b1}", None, None),
    ("PATCH", "/v1/books/{b0}", {"price": 19.99}, None),
    ("GET", "/v1/books/{b0}", None, None),
    ("PATCH", "/v1/books/{b1}", {"title": "Ancillary Sword"}, None),
    ("PATCH", "/v1/books/{b2}", {"author": "S. Clarke"}, None),
    ("PATCH", "/v1/books/{b2}", {"format": "paperback"}, None),
    ("GET", "/v1/books?page=1&per_page=3", None, None),
    ("GET", "/v1/books?page=2&per_page=3", None, None),
    ("POST", "/v1/books", {**B, "price": -1}, None),
    ("POST", "/v1/books", {**B, "title": ""}, None),
    ("POST", "/v1/books", {"title": "No author", "price": 5}, None),
    ("POST", "/v1/books", {**B, "format": "vinyl"}, None),
    ("GET", "/v1/books/{missing}", None, None),
    ("PATCH", "/v1/books/{missing}", {"price": 3}, None),
    ("DELETE", "/v1/books/{missing}", None, None),
    ("PATCH", "/v1/books/{b0}", {"price": -5}, None),
    ("PATCH", "/v1/books/{b0}", {"format": "vinyl"}, None),
    ("DELETE", "/v1/books/{b2}", None, None),
    ("GET", "/v1/books/{b2}", None, None),
    ("DELETE", "/v1/books/{b2}", None, None),
    ("GET", "/v1/books?page=1&per_page=50", None, None),
    (
        "POST",
        "/v1/books",
        {"title": "Binti", "author": "Nnedi Okorafor", "price": 7.25, "format": "paperback"},
        "b3",
    ),
    ("GET", "/v1/books/{b3}", None, None),
    (
        "PATCH",
        "/v1/books/{b3}",
        {"title": "Binti: Home", "author": "N. Okorafor", "price": 8, "format": "ebook"},
        None,
    ),
    ("GET", "/v1/books/{b3}", None, None),
    ("GET", "/v1/books?page=abc", None, None),
    ("GET", "/v1/books?per_page=0", None, None),
    ("GET", "/v1/books/abc", None, None),
    ("POST", "/v1/books", {**B, "price": "cheap"}, None),
    ("POST", "/v1/books", {"title": "Free sample", "author": "Folio", "price": 0}, "b4"),
    ("GET", "/v1/books/{b4}", None, None),
    ("DELETE", "/v1/books/{b4}", None, None),
    ("DELETE", "/v1/books/{b3}", None, None),
    ("GET", "/v1/books/{b0}", None, None),
    ("GET", "/v1/books?page=100000&per_page=10", None, None),
]


def v1_part(spec: dict) -> dict:
    """The /v1 paths of an OpenAPI document and every component they refer to."""
    paths = {
        p: ops for p, ops in spec.get("paths", {}).items() if p.startswith("/v1/") or p == "/v1"
    }
    schemas = spec.get("components", {}).get("schemas", {})
    wanted: set[str] = set()
    todo = [paths]
    while todo:
        text = json.dumps(todo.pop())
        for name in re.findall(r'"#/components/schemas/([^"]+)"', text):
            if name not in wanted:
                wanted.add(name)
                todo.append(schemas[name])
    return {
        "openapi": spec["openapi"],
        "info": {**spec["info"], "title": "Folio books v1 (released)", "version": "1.0.0"},
        "paths": paths,
        "components": {"schemas": {n: schemas[n] for n in sorted(wanted)}},
    }


def main() -> None:
    root = HERE.parents[2]
    sys.path.insert(0, str(root))
    from fastapi.testclient import TestClient

    from checker.catalog import Catalog
    from checker.testing import fresh_database
    from checker.workspace import compose

    lab = Catalog().get("api-versioning")
    ws = compose(lab, solution=True)
    with fresh_database(lab.id) as db_url:
        os.environ["DATABASE_URL"] = db_url
        sys.path.insert(0, str(ws.path))
        from app.main import app

        ids: dict[str, int] = {"missing": 2_000_000_000}
        steps = []
        with TestClient(app) as client:
            for method, path, body, name in SESSION:
                url = path.format(**ids) if "{" in path else path
                r = client.request(method, url, json=body)
                answer = r.json() if r.content else None
                if name and r.status_code == 201:
                    ids[name] = answer["id"]
                steps.append({"method": method, "path": path, "json": body, "creates": name,
                              "status": r.status_code, "body": answer})  # fmt: skip
            spec = client.get("/openapi.json").json()
    assert len(steps) == 40, len(steps)
    (HERE / "v1_session.json").write_text(json.dumps(steps, indent=1) + "\n")
    (HERE / "v1_openapi.json").write_text(json.dumps(v1_part(spec), indent=1) + "\n")
    print(f"wrote {len(steps)} steps; statuses: {[s['status'] for s in steps]}")


if __name__ == "__main__":
    main()

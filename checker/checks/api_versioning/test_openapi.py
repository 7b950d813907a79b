"""v1's part of the service's OpenAPI has no breaking change against the released v1.

The rules are oasdiff's (openapi_diff.py lists them). The service's document is read
at /openapi.json; a v1 mounted as its own app may publish it at /v1/openapi.json, with
paths relative to /v1.
"""

import pytest
from _helpers import said
from openapi_diff import breaking_changes

from checker.verdict import expect, fail


def _current_v1(http) -> dict | None:
    r = http.get("/openapi.json")
    if r.status_code == 200:
        spec = r.json()
        if any(p.startswith("/v1/") for p in spec.get("paths", {})):
            return spec
    sub = http.get("/v1/openapi.json")
    if sub.status_code == 200:
        spec = sub.json()
        spec["paths"] = {f"/v1{p}": ops for p, ops in spec.get("paths", {}).items()}
        return spec
    return None


@pytest.mark.check("v1_openapi_compatible")
def test_v1_spec_has_no_breaking_change(http, v1_spec):
    current = _current_v1(http)
    if current is None:
        fail(
            "no-openapi",
            f"GET /openapi.json answered {said(http.get('/openapi.json'))} with no /v1 paths, and /v1/openapi.json has none either; expected the service's OpenAPI with v1 in it",
        )
    changes = breaking_changes(v1_spec, current, prefix="/v1")
    listed = "; ".join(changes[:5]) + (f"; and {len(changes) - 5} more" if len(changes) > 5 else "")
    expect(not changes, "breaking-change",
           f"v1's OpenAPI has {len(changes)} breaking change(s) against the released v1: {listed}")  # fmt: skip

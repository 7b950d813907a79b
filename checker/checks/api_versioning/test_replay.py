"""The released v1's recorded session replays against the service.

The 40 requests were recorded from the released v1 (record_v1.py). Each must get the
same status, and every field of the recorded answer must be there with the same JSON
type (extra fields are fine: clients ignore what they don't know). Ids are names in
the recording: each is mapped to the id the service gave the book it created, and the
"missing" id is one that does not exist in this run.
"""

import json

import pytest
from _helpers import said, shape_differences, shown

from checker.verdict import expect, fail


@pytest.mark.check("v1_replay")
def test_recorded_v1_session_replays(http, db, rng, v1_session):
    top = db.execute("SELECT coalesce(max(id), 0) FROM books").fetchone()[0]
    ids: dict[str, int] = {"missing": top + rng.randint(100_000, 10_000_000)}
    tag = f"#{rng.randint(1000, 9999)}"
    for n, step in enumerate(v1_session, start=1):
        path = step["path"].format(**ids)
        body = step["json"]
        if isinstance(body, dict) and isinstance(body.get("title"), str) and body["title"]:
            body = {**body, "title": f"{body['title']} {tag}"}  # titles of this run
        r = http.request(step["method"], path, json=body)
        what = f"request {n} of {len(v1_session)}, {step['method']} {path}" + (
            f" {json.dumps(body)}" if body is not None else ""
        )
        if r.status_code != step["status"]:
            fail("status-changed",
                 f"The recorded v1 session, {what}: answered {said(r)} ({shown(r)}); the released v1 answered {step['status']}")  # fmt: skip
        if step["body"] is None:
            continue
        try:
            answer = r.json()
        except ValueError:
            fail(
                "type-changed",
                f"The recorded v1 session, {what}: answered {shown(r)}, not JSON; the released v1 answered JSON",
            )
        diffs = shape_differences(step["body"], answer)
        if diffs:
            kind = diffs[0][0]
            fail(kind,
                 f"The recorded v1 session, {what}: {'; '.join(d for _, d in diffs[:3])}. A v1 client parsing the released types breaks here")  # fmt: skip
        if step["creates"]:
            ids[step["creates"]] = answer["id"]
        recorded_id = step["body"].get("id") if isinstance(step["body"], dict) else None
        name = next((k for k in ids if "{" + k + "}" in step["path"]), None)
        if recorded_id is not None and name and name != "missing":
            expect(answer.get("id") == ids[name], "wrong-book",
                   f"The recorded v1 session, {what}: answered the book with id {answer.get('id')!r}; expected book {ids[name]}, the one in the path")  # fmt: skip

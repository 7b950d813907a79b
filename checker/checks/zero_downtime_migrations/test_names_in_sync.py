import pytest
from _helpers import need

from checker.verdict import fail


def _name(answer: dict, field: str):
    body = answer.get("body")
    return body.get(field) if isinstance(body, dict) else None


@pytest.mark.check("names_in_sync")
def test_v1_and_v2_see_the_same_names(rollout):
    rec = rollout
    need(rec, "expand")
    s = rec.sync
    if not s:
        fail("not-judged", f"v2 beside v1 could not be tried: {rec.error}")
    steps = [
        (
            "v2_create",
            "v1_reads_v2_create",
            "name",
            "a customer created through v2 (POST /customers)",
        ),
        ("v2_rename", "v1_reads_v2_rename", "name", "a customer renamed through v2 (PATCH)"),
        (
            "v2_rename_old",
            "v1_reads_v2_rename_old",
            "name",
            "an existing customer renamed through v2",
        ),
        ("v1_create", "v2_reads_v1_create", "full_name", "a customer created through v1"),
        ("v1_rename", "v2_reads_v1_rename", "full_name", "a customer renamed through v1"),
    ]
    for write, read, field, what in steps:
        w = s.get(write)
        if w is None:
            continue
        if w["status"] not in (200, 201):
            who = "v2" if write.startswith("v2") else "v1"
            fail(f"{who}-write-failed",
                 f"{what}: {who} answered {w['status']}, expected {'201' if 'create' in write else '200'} "
                 f"({str(w.get('body'))[:200]})")  # fmt: skip
        r = s.get(read)
        if r is None or r["status"] != 200:
            fail("read-failed", f"{what}: reading it back through the other version answered "
                 f"{r and r['status']} ({str(r and r.get('body'))[:200]}), expected 200")  # fmt: skip
        got = _name(r, field)
        if got != w["sent"]:
            fail("out-of-sync",
                 f"{what} as {w['sent']!r}: the other version reads {field} = {got!r}; expected "
                 f"the same name. While v1 and v2 both run, a write to either column must reach "
                 f"the other.")  # fmt: skip

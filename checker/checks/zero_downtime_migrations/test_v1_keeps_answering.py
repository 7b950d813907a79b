import pytest
from _helpers import need

from checker.verdict import fail


@pytest.mark.check("v1_keeps_answering")
def test_v1_answers_as_before_during_the_rollout(rollout, measure):
    rec = rollout
    need(rec, "expand")
    served = [r for r in rec.requests]
    if len(served) < 20:
        fail("too-few-requests", f"v1 answered only {len(served)} requests during the rollout; "
             "expected a steady stream (the checker's v1 could not run)")  # fmt: skip
    errors = [r for r in served if r.status is None or r.status >= 500]
    measure("v1_requests", len(served))
    marks = sorted(rec.phases.items(), key=lambda kv: kv[1])
    for (name, t), (_, t_next) in zip(marks, marks[1:], strict=False):
        measure(f"phase_{name}_s", round(t_next - t, 2))
    for target, runs in rec.migrations.items():
        measure(f"migrate_{target}_s", [round(m.t1 - m.t0, 2) for m in runs])
    if errors:
        first = errors[0]
        what = first.error or f"{first.status}"
        t0 = rec.phases.get("expand", first.t0)
        when = "after `alembic upgrade expand` began" if first.t0 >= t0 else "before the expand"
        ops = sorted({r.op for r in errors})
        log = rec.v1_log.strip().splitlines()
        cause = next((ln for ln in reversed(log) if "Error" in ln), "")
        fail(
            "v1-errors",
            f"v1, still serving, answered {len(errors)} of {len(served)} requests with an error "
            f"({', '.join(ops)}; the first: {what}, {when}); expected none. "
            + (f"v1's log says: {cause.strip()[:300]}" if cause else ""),
        )

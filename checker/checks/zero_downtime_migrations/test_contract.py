import pytest
from _helpers import need

from checker.verdict import fail


@pytest.mark.check("contract_cleans_up")
def test_contract_drops_the_old_column_and_v2_keeps_working(rollout):
    rec = rollout
    need(rec, "expand")
    need(rec, "contract")
    cat = rec.catalog.get("contracted", {})
    if "name" in cat.get("columns", {}):
        fail("name-kept", "after contract, customers still has the column name; expected contract "
             "to drop it (v1, its last reader, has stopped)")  # fmt: skip
    if cat.get("triggers"):
        fail("trigger-kept", f"after contract, customers still has the trigger(s) {cat['triggers']}; "
             "expected the sync trigger dropped with the column it copies")  # fmt: skip
    ac = rec.after_contract
    for step, want in (("create", 201), ("rename", 200), ("read", 200), ("order", 201)):
        got = ac.get(step, {}).get("status")
        if got != want:
            fail("v2-broken-after-contract",
                 f"after contract, v2's {step} answered {got}; expected {want}. Something left "
                 "behind by contract still reads the dropped column (a trigger's function?)")  # fmt: skip
    if ac.get("read", {}).get("full_name") != ac.get("rename", {}).get("sent"):
        fail("v2-broken-after-contract", "after contract, a customer renamed through v2 reads "
             f"{ac['read'].get('full_name')!r}; expected {ac['rename'].get('sent')!r}")  # fmt: skip
    trip = rec.round_trip or {}
    result = trip.get("result")
    if result is None:
        fail("round-trip", f"the round trip (upgrade, downgrade to 0001, upgrade) could not be "
             f"made: {trip.get('error')}")  # fmt: skip
    if result.problem:
        fail(
            "round-trip",
            f"the round trip on an empty database {result.problem}:\n{result.output[-800:]}",
        )
    for step in result.steps:
        if step.error:
            fail("round-trip", f"`alembic {step.name}` failed on an empty database: {step.error}")

    def shape(step):
        return (step.schema["tables"], step.schema["indexes"]) if step and step.schema else None

    ups = [s for s in result.steps if s.name == "upgrade head"]
    base, down = shape(result.step("upgrade 0001")), shape(result.step("downgrade 0001"))
    if base and down and base != down:
        fail("round-trip", "`alembic downgrade 0001` did not bring back 0001's schema (tables "
             f"and indexes: {down} instead of {base})")  # fmt: skip
    if len(ups) == 2 and shape(ups[0]) != shape(ups[1]):
        fail("round-trip", "upgrading again after the downgrade gave another schema than the "
             "first upgrade")  # fmt: skip

import pytest
from _helpers import BRIEF_HOLD_S, SCAN_SHARE, holds, need, waits

from checker.verdict import fail


@pytest.mark.check("foreign_key_not_valid_first")
def test_foreign_key_added_without_blocking_orders(rollout, measure):
    rec = rollout
    need(rec, "expand")
    fks = [
        fk for fk in rec.catalog.get("expanded", {}).get("fks", [])
        if fk["columns"] == ["customer_id"] and fk["references"] == "customers"
    ]  # fmt: skip
    if not fks:
        fail("no-foreign-key", "after expand, orders.customer_id has no foreign key to customers; "
             "expected one")  # fmt: skip
    if not any(fk["validated"] for fk in fks):
        fail("not-validated", f"the foreign key {fks[0]['name']} is still NOT VALID after expand: "
             "new rows are checked, old ones never were; expected VALIDATE CONSTRAINT")  # fmt: skip
    spans = holds(rec, "orders", {"ShareRowExclusiveLock"})
    longest = max((b - a for a, b in spans), default=0.0)
    measure("fk_share_row_exclusive_s", round(longest, 3))
    measure("fk_scan_s", round(rec.fk_scan_s, 3))
    # Compared with what checking every order takes on this machine, now: a one-step
    # ADD FOREIGN KEY holds the lock about that long, a NOT VALID one for milliseconds.
    bound = max(BRIEF_HOLD_S, SCAN_SHARE * rec.fk_scan_s)
    if longest > bound:
        blocked = waits(rec, on=rec.migration_pids(), rel="orders")
        fail("validated-under-lock",
             f"the migration held SHARE ROW EXCLUSIVE on orders for {longest:.2f} s while adding "
             f"the foreign key (checking every order takes {rec.fk_scan_s:.2f} s here): order "
             "inserts waited"
             + (f" ({len(blocked)} seen)" if blocked else "")
             + "; expected ADD CONSTRAINT ... NOT VALID (milliseconds), then "
             "VALIDATE CONSTRAINT, whose lock lets inserts through")  # fmt: skip

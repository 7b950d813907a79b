import pytest
from _helpers import holds, need, waits

from checker.verdict import fail


def _target_index(catalog: dict) -> dict | None:
    for ix in catalog.get("indexes", []):
        if ix["columns"][:2] == ["customer_id", "created_at"] and not ix["partial"]:
            return ix
    return None


@pytest.mark.check("index_built_concurrently")
def test_index_built_without_blocking_orders(rollout, measure):
    rec = rollout
    built = _target_index(rec.catalog.get("expanded", {}))
    if built is not None and not built["valid"]:
        fail("invalid-index", f"the index {built['name']} on orders (customer_id, created_at) is "
             "INVALID: its concurrent build failed (a statement_timeout?) and left it behind, "
             "unused by every query but costing every insert; expected a valid index")  # fmt: skip
    need(rec, "expand")
    share = holds(rec, "orders", {"ShareLock"})
    if share:
        longest = max(b - a for a, b in share)
        pids = rec.migration_pids()
        blocked = waits(rec, on=pids, rel="orders")
        fail("share-lock", f"the migration held ShareLock on orders for {longest:.1f} s (a plain "
             f"CREATE INDEX): no order could be placed meanwhile"
             + (f" ({len(blocked)} request(s) seen waiting)" if blocked else "")
             + "; expected CREATE INDEX CONCURRENTLY, which lets writes through")  # fmt: skip
    ix = _target_index(rec.catalog.get("expanded", {}))
    if ix is None:
        cols = [i["columns"] for i in rec.catalog.get("expanded", {}).get("indexes", [])]
        fail("no-index", f"after expand, orders has no index on (customer_id, created_at) (its "
             f"indexes: {cols}); expected one")  # fmt: skip
    if not ix["valid"]:
        fail("invalid-index", f"the index {ix['name']} on orders (customer_id, created_at) is "
             "INVALID: its concurrent build failed (a statement_timeout?) and left it behind, "
             "unused by every query but costing every insert; expected a valid index")  # fmt: skip
    after = _target_index(rec.catalog.get("contracted", {}))
    if rec.catalog.get("contracted") and (after is None or not after["valid"]):
        fail("index-lost", "after contract, the index on orders (customer_id, created_at) is gone "
             "or invalid; expected it to stay")  # fmt: skip

import pytest
from _helpers import need, transactions

from checker.verdict import fail

#: Intermediate counts of unfilled rows the sampler must see.
MIN_STEPS = 3
#: A transaction seen writing in fewer samples than this (60 ms) locked too little to judge.
MIN_SAMPLES = 3


@pytest.mark.check("backfill_in_batches")
def test_backfill_commits_in_batches(rollout, measure, note):
    rec = rollout
    need(rec, "expand")
    counts = [n for _, n in rec.unfilled]
    if not counts:
        fail("never-unfilled", "the sampler never found a customers.full_name column with NULLs to "
             "count while the expand ran; expected full_name to be added, then filled batch by batch")  # fmt: skip
    top = max(counts)
    between = sorted({n for n in counts if 0 < n < top}, reverse=True)
    measure("unfilled_counts_seen", len(between))
    if top == 0:
        fail("never-unfilled", "full_name never had a NULL to fill, as sampled: was the column filled "
             "by a rename (v1 loses `name`) or in the same transaction that added it?")  # fmt: skip
    if len(between) < MIN_STEPS:
        seen = ", ".join(str(n) for n in [top, *between[:5]])
        fail("one-transaction",
             f"the count of customers with full_name still NULL went {seen} -> 0 with "
             f"{len(between)} value(s) in between; expected at least {MIN_STEPS}: each batch "
             f"committed on its own, so the rows of the whole table are never locked at once.")  # fmt: skip
    # Each batch its own transaction: none of the backfill's transactions may be seen in
    # most of the samples that saw it writing (a few tiny batches for the sampler, then
    # one UPDATE of the rest, would pass the count).
    seen = transactions(rec, "customers", "RowExclusiveLock", rec.phases.get("expand", 0.0),
                        rec.phases.get("expanded", float("inf")))  # fmt: skip
    total, most = sum(seen), max(seen, default=0)
    measure("backfill_transactions", len(seen))
    if most >= MIN_SAMPLES and most > 0.5 * total:
        fail("one-transaction",
             f"one transaction of the backfill was writing customers in {most} of the {total} "
             "lock samples that saw the backfill write (every 20 ms): most rows were locked "
             "at once, until its commit; expected batches of about the same size, each "
             "committed on its own")  # fmt: skip
    note(
        f"{len(between)} intermediate counts of unfilled rows, from {top}; "
        f"{len(seen)} transactions wrote customers"
    )

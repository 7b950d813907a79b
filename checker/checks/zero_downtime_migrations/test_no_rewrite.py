import pytest
from _helpers import ddl_messages, need

from checker.verdict import fail

PROOF = "are sufficient to prove"


@pytest.mark.check("no_rewrite_not_null_proven")
def test_no_table_rewrite_and_not_null_from_a_constraint(rollout, note):
    rec = rollout
    need(rec, "expand")
    need(rec, "contract")
    messages = ddl_messages(rec)
    if not any(msgs for _, _, msgs in messages):
        fail("no-messages", "PostgreSQL sent the migrations' connection no DEBUG message at all "
             "(client_min_messages = debug1 is set for it); expected at least its notes on each "
             "ALTER. Do your revisions run their statements through Alembic's connection?")  # fmt: skip
    for target, stmt, msgs in messages:
        for msg in msgs:
            if msg.startswith("rewriting table"):
                fail("rewrite", f"`alembic upgrade {target}`: PostgreSQL said {msg!r} for `{stmt[:200]}`: "
                     "the whole table copied under ACCESS EXCLUSIVE, every query waiting; expected "
                     "no rewrite (a constant default, no type change)")  # fmt: skip
            if msg.startswith("verifying table") and "VALIDATE CONSTRAINT" not in stmt.upper():
                fail("scan-under-exclusive-lock",
                     f"`alembic upgrade {target}`: PostgreSQL said {msg!r} for `{stmt[:200]}`: it "
                     "read every row while holding ACCESS EXCLUSIVE (nobody can even read the "
                     "table meanwhile); expected the check to come from a constraint validated "
                     "beforehand, as PostgreSQL's 'existing constraints ... are sufficient to "
                     "prove that it does not contain nulls'")  # fmt: skip
    before, after = rec.relfilenodes.get("before", {}), rec.relfilenodes.get("after", {})
    for table, node in before.items():
        if after.get(table, node) != node:
            fail("rewrite", f"the table {table} was rewritten (its file changed: relfilenode "
                 f"{node} -> {after.get(table)}); expected the same file before and after")  # fmt: skip
    ac = rec.after_contract
    if not ac.get("null_refused"):
        fail("nulls-allowed", "after contract, customers.full_name still accepts a NULL "
             f"({ac.get('null_error') or 'the INSERT succeeded'}); expected NOT NULL, or a "
             "validated CHECK (full_name IS NOT NULL), to refuse it")  # fmt: skip
    cat = rec.catalog.get("contracted", {})
    not_null = cat.get("columns", {}).get("full_name")
    validated = [
        c["name"] for c in cat.get("checks", [])
        if c["validated"] and "full_name IS NOT NULL" in c["definition"]
    ]  # fmt: skip
    if not not_null and not validated:
        fail("nulls-allowed", "after contract, full_name is neither NOT NULL nor guarded by a "
             "validated CHECK (full_name IS NOT NULL): a constraint left NOT VALID refuses new "
             "NULLs, but never looked at the rows already there; expected NOT NULL or "
             "VALIDATE CONSTRAINT")  # fmt: skip
    proofs = [m for _, _, msgs in messages for m in msgs if PROOF in m]
    note("NOT NULL proven from a constraint" if proofs else "NOT NULL kept as a validated CHECK")

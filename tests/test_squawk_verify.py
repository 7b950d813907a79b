"""squawk, an independent linter, agrees with lab 12's checks where both can see.

squawk (squawk-cli, a dev dependency) reads the SQL of `alembic upgrade --sql`; the checks
watch PostgreSQL while the revisions run. On the starter, squawk must flag what the
checks catch from the SQL's form (a plain CREATE INDEX, a one-step foreign key, no
lock_timeout, a column dropped under v1); on the reference, none of those. What only
the running database shows (batched backfills, a trigger keeping two columns in step)
squawk cannot judge: benchmarks/squawk_verify.py prints both side by side.
"""

from __future__ import annotations

from benchmarks.squawk_verify import compare


def test_squawk_agrees_with_the_checks_on_the_starter_and_the_solution():
    report = compare(run_checks=False)
    starter = {f["rule"] for f in report["starter"]["squawk"]["expand"]}
    solution = {f["rule"] for f in report["solution"]["squawk"]["expand"]}
    caught = {"require-concurrent-index-creation", "adding-foreign-key-constraint",
              "require-lock-timeout", "ban-drop-column"}  # fmt: skip
    assert caught <= starter, f"squawk on the starter's expand: {sorted(starter)}"
    assert not caught & solution, f"squawk on the solution's expand: {sorted(solution)}"
    assert set(report["starter"]["checks"].values()) == {"fail"}
    assert set(report["solution"]["checks"].values()) == {"pass"}

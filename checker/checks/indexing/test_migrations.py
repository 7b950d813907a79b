"""The learner's migrations: every index valid, and a clean round trip (upgrade,
downgrade to the baseline, upgrade again), made by the checker on an empty database when
it applied them (checker.migration_roundtrip) and stored in lab_meta."""

from __future__ import annotations

import psycopg

INVALID = """
SELECT c.relname, t.relname
FROM pg_index AS i
JOIN pg_class AS c ON c.oid = i.indexrelid
JOIN pg_class AS t ON t.oid = i.indrelid
JOIN pg_namespace AS n ON n.oid = t.relnamespace
WHERE n.nspname = 'public' AND NOT (i.indisvalid AND i.indisready)
ORDER BY 1
"""


def _differences(got: dict, want: dict) -> list[str]:
    """What differs between two schemas, in words."""
    parts = []
    extra = sorted(set(got["indexes"]) - set(want["indexes"]))
    missing = sorted(set(want["indexes"]) - set(got["indexes"]))
    changed = sorted(
        n
        for n in set(got["indexes"]) & set(want["indexes"])
        if got["indexes"][n] != want["indexes"][n]
    )
    if extra:
        parts.append(f"still there: {', '.join(extra)}")
    if missing:
        parts.append(f"missing: {', '.join(missing)}")
    if changed:
        parts.append(f"defined differently: {', '.join(changed)}")
    extra_t = sorted(set(got["tables"]) - set(want["tables"]))
    missing_t = sorted(set(want["tables"]) - set(got["tables"]))
    if extra_t:
        parts.append(f"tables still there: {', '.join(extra_t)}")
    if missing_t:
        parts.append(f"tables missing: {', '.join(missing_t)}")
    return parts


def test_migrations_reversible(db: psycopg.Connection, measure, note):
    invalid = db.execute(INVALID).fetchall()
    measure("invalid_indexes", [r[0] for r in invalid])
    assert not invalid, (
        "Invalid index: "
        + ", ".join(f"{name} on {table}" for name, table in invalid)
        + ". A CREATE INDEX CONCURRENTLY that fails halfway (a duplicate value for a unique "
        "index, a deadlock, a cancelled build) leaves its index behind marked INVALID: every "
        "write still pays for it, and no query can use it. Drop it and build it again, and "
        "let a failed build fail the migration instead of hiding it."
    )
    row = db.execute("SELECT to_regclass('lab_meta.migrations_round_trip')").fetchone()
    assert row[0], (
        "The checker found no record of the migrations' round trip in this database: "
        "run `lab check` again (it is made when your migrations are applied)."
    )
    baseline, trip = db.execute(
        "SELECT baseline, result FROM lab_meta.migrations_round_trip"
    ).fetchone()
    steps = trip.get("steps", [])
    measure("round_trip", [(s["name"], "error" if s.get("error") else "ok") for s in steps])
    if trip.get("problem") and len(steps) < 4:
        raise AssertionError(
            f"The round trip of your migrations (alembic upgrade head, downgrade {baseline}, "
            f"upgrade head, on an empty database) {trip['problem']}. The end of its output:\n"
            f"{trip.get('output', '')[-1500:]}"
        )
    failed = {
        0: f"`alembic upgrade {baseline}` failed on an empty database.",
        1: "`alembic upgrade head` failed on an empty database.",
        2: (
            f"`alembic downgrade {baseline}` failed: downgrade() must undo upgrade(), so a "
            f"bad deploy can be rolled back."
        ),
        3: (
            f"After `alembic downgrade {baseline}`, `alembic upgrade head` failed: the "
            f"downgrade left something behind that the upgrade then tries to create again."
        ),
    }
    for i, step in enumerate(steps):
        if step.get("error"):
            raise AssertionError(f"{failed[i]} The error:\n{step['error']}")
        schema = step["schema"]
        if i == 1:
            assert schema["version"] != steps[0]["schema"]["version"], (
                f"There is no migration of yours yet: head is still the baseline {baseline}. "
                f"Once you write one, this bonus checks that it rolls back as cleanly as it "
                f"applies."
            )
        if i == 2:
            left = _differences(schema, steps[0]["schema"])
            assert not left, (
                f"After `alembic downgrade {baseline}` the schema is not the one {baseline} "
                f"had: {'; '.join(left)}. downgrade() must undo what upgrade() did, in "
                f"reverse order: drop the indexes it created, re-create the ones it dropped. "
                f"Alembic's template leaves it as `pass`, which rolls back nothing."
            )
        if i == 3:
            drift = _differences(schema, steps[1]["schema"])
            assert not drift, (
                f"Upgrading again after the downgrade gives another schema than the first "
                f"upgrade: {'; '.join(drift)}. upgrade() and downgrade() should be exact "
                f"mirrors."
            )
    assert len(steps) == 4, f"The round trip of your migrations stopped early: {trip}"
    head = steps[1]["schema"]
    note(
        f"upgrade, downgrade to {baseline} and upgrade again leave the same schema; "
        f"{len(head['indexes'])} indexes at head, all valid"
    )

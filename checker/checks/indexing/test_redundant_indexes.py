"""The indexes of orders and customer, as the migrations left them."""

from __future__ import annotations

import psycopg

INDEXES = """
SELECT c.relname, t.relname, am.amname, i.indisunique, i.indpred IS NOT NULL,
       array(SELECT pg_get_indexdef(i.indexrelid, k, true)
             FROM generate_series(1, i.indnkeyatts) AS k ORDER BY k)
FROM pg_index AS i
JOIN pg_class AS c ON c.oid = i.indexrelid
JOIN pg_class AS t ON t.oid = i.indrelid
JOIN pg_am AS am ON am.oid = c.relam
JOIN pg_namespace AS n ON n.oid = t.relnamespace
WHERE n.nspname = 'public' AND t.relname IN ('orders', 'customer')
ORDER BY t.relname, c.relname
"""


def test_no_redundant_indexes(db: psycopg.Connection, measure):
    indexes = db.execute(INDEXES).fetchall()
    measure("indexes", [r[0] for r in indexes])
    problems = []
    for name, table, method, unique, partial, cols in indexes:
        if unique or partial:
            continue  # a unique index is a rule, a partial one covers other rows
        for other, other_table, other_method, _, other_partial, other_cols in indexes:
            if other == name or other_table != table or other_method != method or other_partial:
                continue
            if list(other_cols[: len(cols)]) == list(cols) and (
                len(other_cols) > len(cols) or other < name
            ):
                what = "is an exact copy of" if len(other_cols) == len(cols) else "is covered by"
                problems.append(
                    f"{name} ({', '.join(cols)}) {what} {other} ({', '.join(other_cols)})"
                )
                break
    assert not problems, (
        "Redundant indexes: "
        + "; ".join(problems)
        + ". Every INSERT and UPDATE of the table pays for each of them, and no query gains."
    )

"""Fill customers.full_name from name, a batch at a time: `python -m app.backfill`.

Run between `alembic upgrade expand` and `alembic upgrade contract`, while v1 and v2
serve: each batch is its own transaction (autocommit), so no row stays locked for long.
"""

import os

import psycopg

BATCH = 10_000


def main() -> None:
    url = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True) as conn:
        last = 0
        while True:
            ids = conn.execute(
                "SELECT id FROM customers WHERE id > %s ORDER BY id LIMIT %s", (last, BATCH)
            ).fetchall()
            if not ids:
                break
            first, last = ids[0][0], ids[-1][0]
            conn.execute(
                "UPDATE customers SET full_name = name"
                " WHERE id BETWEEN %s AND %s AND full_name IS NULL",
                (first, last),
            )


if __name__ == "__main__":
    main()

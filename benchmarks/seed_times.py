"""Seeding and cloning times of a lab's template database (the big one: indexing).

    .venv/bin/python benchmarks/seed_times.py [--lab indexing] [--clones 5]

Builds the lab's template from its seed under a throwaway name (showing each step's
progress, as `lab check` does), prints its size, then clones it per run both ways:
STRATEGY WAL_LOG (PostgreSQL's default since 15) and STRATEGY FILE_COPY (what the
checker uses for templates over 64 MB). Uses the servers `lab check` would use (the
embedded ones under LAB_HOME, or LAB_DATABASE_URL), and drops everything it made.
"""

from __future__ import annotations

import argparse
import statistics
import time

import psycopg

from checker.catalog import Catalog
from checker.paths import state_dir
from checker.runner import template_for
from checker.services import providers
from checker.services.databases import drop_database, ensure_template, with_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", default="indexing")
    parser.add_argument("--clones", type=int, default=5)
    opts = parser.parse_args()

    lab = Catalog().get(opts.lab)
    admin = providers(state_dir()).postgres.ensure()
    _, sql = template_for(lab)
    name = f"lab_tpl_bench_{int(time.time())}"
    rows: list[tuple[str, str]] = []
    with psycopg.connect(admin, autocommit=True) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
    t0 = time.perf_counter()
    try:
        ensure_template(
            admin, name, sql,
            on_progress=lambda m: print(f"  {time.perf_counter() - t0:6.1f}s  {m}", flush=True),
        )  # fmt: skip
        rows.append((f"seed the {opts.lab} template (PostgreSQL {version})",
                     f"{time.perf_counter() - t0:.2f} s"))  # fmt: skip
        with psycopg.connect(admin, autocommit=True) as conn:
            size = conn.execute("SELECT pg_database_size(%s)", (name,)).fetchone()[0]
            rows.append(("template size", f"{size / 1e6:.0f} MB"))
            for strategy in ("WAL_LOG", "FILE_COPY"):
                times = []
                for i in range(opts.clones):
                    clone = f"{name}_c{i}"
                    t = time.perf_counter()
                    conn.execute(f'CREATE DATABASE "{clone}" TEMPLATE "{name}" STRATEGY {strategy}')
                    times.append(time.perf_counter() - t)
                    with psycopg.connect(with_database(admin, clone)) as c:
                        c.execute("SELECT 1")
                    drop_database(admin, clone)
                rows.append((
                    f"clone per run, STRATEGY {strategy} (median of {opts.clones})",
                    f"{statistics.median(times):.3f} s  (min {min(times):.3f}, "
                    f"max {max(times):.3f})",
                ))  # fmt: skip
    finally:
        drop_database(admin, name)

    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  time")
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


if __name__ == "__main__":
    main()

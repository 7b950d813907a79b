"""Wall times of `lab check` (cold and warm) and of the embedded servers' start-up.

    .venv/bin/python benchmarks/check_times.py [--lab crud] [--runs 5]

Cold: a fresh LAB_HOME (no data directory, no template, servers stopped), as on the
first check after install: includes initdb. Warm: servers running, template built.
Each `lab check` is timed as a user runs it: a new process, from start to exit.
Runs in its own temporary LAB_HOME and stops the servers it started.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


FORKED: list[bool] = []
UNJUDGED: list[str] = []  # why a run could not be judged (exit 2)


def timed(args: list[str], env: dict[str, str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    res = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
    took = time.perf_counter() - t0
    with contextlib.suppress(ValueError, KeyError, TypeError):
        data = json.loads(res.stdout)
        if data.get("error"):
            UNJUDGED.append(f"{data['error']['kind']}: {data['error']['message'][:200]}")
        FORKED.append(bool(data["measurements"]["service_forked"]))
    return took, res.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", default="crud")
    parser.add_argument("--runs", type=int, default=5)
    opts = parser.parse_args()

    from checker.services.embedded import EmbeddedPostgres, EmbeddedRedis

    with tempfile.TemporaryDirectory(prefix="lab-bench-") as tmp:
        home = Path(tmp)
        env = {**os.environ, "LAB_HOME": str(home)}
        for var in ("LAB_DATABASE_URL", "LAB_REDIS_URL", "LAB_SERVICES"):
            env.pop(var, None)
        script = Path(sys.executable).parent / "lab"  # what users type
        lab = [str(script)] if script.exists() else [sys.executable, "-m", "checker"]
        rows: list[tuple[str, str]] = []

        # -- embedded servers on their own ---------------------------------------
        sstate = home / "servers-only"
        sstate.mkdir()
        pg, rd = EmbeddedPostgres(sstate), EmbeddedRedis(sstate)
        t0 = time.perf_counter()
        pg.ensure()
        rows.append(
            ("PostgreSQL 18 cold start (initdb + start)", f"{time.perf_counter() - t0:.2f} s")
        )
        pg.stop()
        t0 = time.perf_counter()
        pg.ensure()
        rows.append(("PostgreSQL restart (data dir exists)", f"{time.perf_counter() - t0:.2f} s"))
        t0 = time.perf_counter()
        pg.ensure()
        rows.append(
            ("PostgreSQL already running (reuse check)", f"{time.perf_counter() - t0:.3f} s")
        )
        t0 = time.perf_counter()
        rd.ensure()
        rows.append(("Redis start", f"{time.perf_counter() - t0:.2f} s"))
        pg.stop()
        rd.stop()

        # -- lab check, cold then warm ----------------------------------------------
        cold, code = timed([*lab, "check", opts.lab, "--json"], env)
        rows.append(
            (f"cold `lab check {opts.lab}` (first after install; exit {code})", f"{cold:.2f} s")
        )
        warm = []
        for _ in range(opts.runs):
            took, code = timed([*lab, "check", opts.lab, "--json"], env)
            warm.append(took)
        rows.append(
            (
                f"warm `lab check {opts.lab}`, median of {opts.runs} (exit {code})",
                f"{statistics.median(warm):.2f} s  (min {min(warm):.2f}, max {max(warm):.2f})",
            )
        )
        sol = []
        for _ in range(opts.runs):
            took, code = timed([*lab, "check", opts.lab, "--solution", "--json"], env)
            sol.append(took)
        rows.append(
            (
                f"warm `lab check {opts.lab} --solution`, median of {opts.runs} (exit {code})",
                f"{statistics.median(sol):.2f} s  (min {min(sol):.2f}, max {max(sol):.2f})",
            )
        )
        subprocess.run([*lab, "services", "down"], cwd=ROOT, env=env, capture_output=True)

        rows.append(
            ("runs whose service the fork server started", f"{sum(FORKED)} of {len(FORKED)}")
        )

    for why in UNJUDGED:
        rows.append(("a run that could not be judged", why))
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  time")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()

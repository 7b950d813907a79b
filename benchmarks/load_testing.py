"""Lab 08's load checks, repeated: verdict stability and the spread of what they measure.

    .venv/bin/python benchmarks/load_testing.py [--runs 20]

Runs `lab check load-testing --solution` and `lab check load-testing` (the starter)
``--runs`` times each, alternating, as a user runs them (a new process each, warm
servers), and prints: how many runs passed and failed; min / median / max of each
ratio the checks judge (throughput at 20 users over 1 user, p95 at 50 users over 1
user, connections opened per 100 requests); the RPS and p95 at 20 users of the solution
and of the starter; and the wall time of each `lab check`. The acceptance is that the
solution passes and the starter fails in every run. Runs in its own temporary
LAB_HOME and stops the servers it started.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MEASURES = {
    "throughput ratio, 20 users / 1 user": ("throughput_scales", "ratio"),
    "RPS at 1 user": ("throughput_scales", "rps_1_user"),
    "RPS at 20 users": ("throughput_scales", "rps_20_users"),
    "p95 at 20 users (ms)": ("throughput_scales", "p95_ms_20_users"),
    "p95 at 1 user (ms)": ("stable_under_load", "p95_ms_1_user"),
    "p95 at 50 users (ms)": ("stable_under_load", "p95_ms_50_users"),
    "p95 growth, 50 users / 1 user": ("stable_under_load", "p95_growth"),
    "connections opened (db phase)": ("connections_pooled", "connections_opened"),
    "requests (db phase)": ("connections_pooled", "requests"),
}


def spread(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{min(values):g} / {statistics.median(values):g} / {max(values):g}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    opts = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="lab-bench-load-") as tmp:
        env = {**os.environ, "LAB_HOME": tmp}
        for var in ("LAB_DATABASE_URL", "LAB_REDIS_URL", "LAB_SERVICES"):
            env.pop(var, None)
        script = Path(sys.executable).parent / "lab"
        lab = [str(script)] if script.exists() else [sys.executable, "-m", "checker"]
        # Warm up: servers started, template built, fork server ready.
        subprocess.run([*lab, "check", "load-testing", "--json"], cwd=ROOT, env=env,
                       capture_output=True)  # fmt: skip

        statuses: dict[str, list[str]] = defaultdict(list)
        times: dict[str, list[float]] = defaultdict(list)
        values: dict[tuple[str, str], list[float]] = defaultdict(list)
        for i in range(opts.runs):
            for target, extra in (("solution", ["--solution"]), ("starter", [])):
                t0 = time.perf_counter()
                res = subprocess.run([*lab, "check", "load-testing", "--json", *extra],
                                     cwd=ROOT, env=env, capture_output=True, text=True)  # fmt: skip
                times[target].append(time.perf_counter() - t0)
                try:
                    result = json.loads(res.stdout)
                except ValueError:
                    statuses[target].append(f"unreadable (exit {res.returncode})")
                    continue
                statuses[target].append(result["status"])
                for name, (check, key) in MEASURES.items():
                    value = result["measurements"].get(check, {}).get(key)
                    if isinstance(value, (int, float)):
                        values[(target, name)].append(value)
                print(f"run {i + 1:>2} {target:<8} {result['status']:<5} "
                      f"{times[target][-1]:5.1f} s  "
                      f"{json.dumps({c['id']: c['status'] for c in result['checks']})}",
                      flush=True)  # fmt: skip
        subprocess.run([*lab, "services", "down"], cwd=ROOT, env=env, capture_output=True)

    print()
    for target, want in (("solution", "pass"), ("starter", "fail")):
        got = statuses[target]
        print(f"{target}: {got.count(want)} of {len(got)} runs {want}  "
              f"(others: {sorted(s for s in got if s != want)})")  # fmt: skip
    print()
    width = max(len(n) for n in MEASURES)
    print(f"{'measure (min / median / max)':<{width}}  {'solution':<24}  starter")
    for name in MEASURES:
        print(f"{name:<{width}}  {spread(values[('solution', name)]):<24}  "
              f"{spread(values[('starter', name)])}")  # fmt: skip
    print(f"{'warm `lab check` wall time (s)':<{width}}  "
          f"{spread([round(t, 1) for t in times['solution']]):<24}  "
          f"{spread([round(t, 1) for t in times['starter']])}")  # fmt: skip


if __name__ == "__main__":
    main()

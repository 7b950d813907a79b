"""The self-verification's cost: how many runs and check executions it makes, and how
long its cases take, full versus the mutants' subsets, one at a time versus two.

    .venv/bin/python benchmarks/selfcheck_times.py [--lab crud] [--rounds 2]

Prints, for every lab: runs and check executions of the self-verification with every
mutant running all checks (as before) and with each running its named checks plus one
smoke check (now). Then, for ``--lab``: the median wall time of a mutant run with all
checks against the same mutant with its subset, and of its mutants run one at a time
against two at a time (tests/selfcheck_run.py processes, as the tests do). The rounds
alternate the variants, so a change in the machine's load hits both alike.
Runs in its own temporary LAB_HOME and stops the servers it started.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checker.catalog import Catalog, Lab  # noqa: E402
from checker.workspace import compose  # noqa: E402


def scenarios(lab: Lab) -> int:
    return len(list((ROOT / "tests" / "scenarios" / lab.id).glob("*/scenario.toml")))


def subset(lab: Lab, bug) -> list[str]:
    smoke = next((c.id for c in lab.checks if c.id not in bug.checks and not c.bonus), None)
    return sorted({*bug.checks, *([smoke] if smoke else [])})


def counts() -> None:
    print(f"{'lab':14} {'runs':>5} {'checks before':>14} {'checks now':>11}")
    tot_runs = tot_before = tot_now = 0
    for lab in Catalog(ROOT).labs:
        n = len(lab.checks)
        runs = 2 + len(lab.bugs) + scenarios(lab)
        before = n * runs
        now = n * (2 + scenarios(lab)) + sum(len(subset(lab, b)) for b in lab.bugs)
        print(f"{lab.id:14} {runs:5} {before:14} {now:11}")
        tot_runs, tot_before, tot_now = tot_runs + runs, tot_before + before, tot_now + now
    print(f"{'total':14} {tot_runs:5} {tot_before:14} {tot_now:11}")


def run_case(lab: Lab, bug, only: list[str], env: dict[str, str]) -> float:
    with compose(lab, mutations=bug.mutations) as ws:
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "tests.selfcheck_run", lab.id, str(ws.path), ws.target,
             ",".join(only), "1"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        took = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"a run failed:\n{proc.stderr[-2000:]}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", default="crud")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    counts()
    lab = Catalog(ROOT).get(args.lab)
    home = tempfile.mkdtemp(prefix="lab-bench-selfcheck-")
    env = {**os.environ, "LAB_HOME": home}
    full = [c.id for c in lab.checks]
    t_full: list[float] = []
    t_sub: list[float] = []
    t_serial: list[float] = []
    t_two: list[float] = []
    try:
        run_case(lab, lab.bugs[0], full, env)  # warm-up: servers, template, fork server
        for _ in range(args.rounds):
            for bug in lab.bugs:
                t_full.append(run_case(lab, bug, full, env))
                t_sub.append(run_case(lab, bug, subset(lab, bug), env))
            t0 = time.perf_counter()
            for bug in lab.bugs:
                run_case(lab, bug, subset(lab, bug), env)
            t_serial.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            with ThreadPoolExecutor(2) as pool:
                list(pool.map(lambda b: run_case(lab, b, subset(lab, b), env), lab.bugs))
            t_two.append(time.perf_counter() - t0)
    finally:
        subprocess.run([sys.executable, "-m", "checker", "services", "down"], cwd=ROOT,
                       env=env, capture_output=True, timeout=120)  # fmt: skip
    med = statistics.median
    print(
        f"\n{lab.id}: {len(lab.bugs)} mutants, {args.rounds} rounds, load {os.getloadavg()[0]:.1f}"
    )
    print(f"  a mutant, all checks:        median {med(t_full):6.2f} s")
    print(f"  a mutant, its checks+smoke:  median {med(t_sub):6.2f} s "
          f"({med(t_sub) / med(t_full):.2f}x)")  # fmt: skip
    print(f"  all mutants, one at a time:  median {med(t_serial):6.2f} s")
    print(f"  all mutants, two at a time:  median {med(t_two):6.2f} s "
          f"({med(t_two) / med(t_serial):.2f}x)")  # fmt: skip


if __name__ == "__main__":
    main()

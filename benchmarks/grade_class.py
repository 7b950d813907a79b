"""Grading a generated class: every verdict right, none lost, submissions per minute.

    .venv/bin/python benchmarks/grade_class.py [--lab crud] [--size 30] [--jobs 4] [--workers 2]

The class cycles through the lab's starter, its solution, and every scenario of
tests/scenarios/<lab>/ (known-wrong and valid alternatives), so each submission's
verdicts are known in advance. It is graded twice, as an instructor would: `lab grade
--jobs N` on this machine, then `lab grade --redis URL` with N `lab worker` processes.
Each pass reports right/wrong/lost and its throughput (the time `lab grade` reports:
from the first job to the last result). Runs in its own temporary LAB_HOME (the servers
are warmed first, so initdb is not counted) and stops what it started.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def lab(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "checker", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)  # fmt: skip


def judge(stdout: str, expected: dict) -> tuple[int, int, int]:
    results = {r["student"]: r for r in json.loads(stdout)}
    right = wrong = 0
    for student, (_variant, verdicts) in expected.items():
        r = results.get(student)
        if r is None:
            continue
        got = {c["id"]: c["status"] for c in r["checks"]}
        if got == verdicts and r["error"] is None:
            right += 1
        else:
            wrong += 1
            print(f"  WRONG {student}: {got}", file=sys.stderr)
    return right, wrong, len(expected) - len(results.keys() & expected.keys())


def timed_grade(args: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess, float]:
    t0 = time.perf_counter()
    proc = lab("grade", *args, "--json", env=env)
    return proc, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", default="crud")
    parser.add_argument("--size", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    opts = parser.parse_args()

    from checker.catalog import Catalog
    from checker.grading.sample import make_class

    with tempfile.TemporaryDirectory(prefix="grade-bench-") as tmp:
        base = Path(tmp)
        env = {**os.environ, "LAB_HOME": str(base / "home"), "HOME": str(base / "user"),
               "LAB_INSTRUCTOR_HOME": str(base / "instructor")}  # fmt: skip
        (base / "user").mkdir()
        os.environ.update(env)
        the_lab = Catalog(ROOT).get(opts.lab)
        expected = make_class(the_lab, base / "class", opts.size)
        kinds: dict[str, int] = {}
        for variant, _ in expected.values():
            kinds[variant.split("-")[0]] = kinds.get(variant.split("-")[0], 0) + 1
        print(f"class: {opts.size} submissions of {opts.lab} "
              f"({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})")  # fmt: skip
        lab("services", "up", env=env)
        lab("check", opts.lab, "--solution", "--json", env=env)  # template built, zygote warm
        rows = []
        try:
            proc, took = timed_grade(
                [str(base / "class"), "--lab", opts.lab, "--jobs", str(opts.jobs)], env
            )
            right, wrong, lost = judge(proc.stdout, expected)
            rows.append((f"local, --jobs {opts.jobs}", right, wrong, lost, took))

            from checker.services import providers
            from checker.services.redis_lease import RedisLease

            lease = RedisLease(providers(base / "home").redis.ensure())
            url = lease.acquire()
            workers = []
            for i in range(opts.workers):
                with open(base / f"worker{i}.log", "wb") as log:
                    workers.append(subprocess.Popen(
                        [sys.executable, "-m", "checker", "worker", "--redis", url],
                        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                        start_new_session=True))  # fmt: skip
            try:
                proc, took = timed_grade(
                    [str(base / "class"), "--lab", opts.lab, "--redis", url], env
                )
                right, wrong, lost = judge(proc.stdout, expected)
                rows.append((f"RQ, {opts.workers} lab workers", right, wrong, lost, took))
            finally:
                for w in workers:
                    os.killpg(w.pid, signal.SIGTERM)
                for w in workers:
                    w.wait(timeout=30)
                lease.release()
        finally:
            lab("services", "down", env=env)
    print(f"\n{'mode':24} {'right':>6} {'wrong':>6} {'lost':>5} {'seconds':>8} {'per minute':>11}")
    for mode, right, wrong, lost, took in rows:
        print(
            f"{mode:24} {right:6d} {wrong:6d} {lost:5d} {took:8.1f} {opts.size / took * 60:11.1f}"
        )
    print(f"\n(machine: {os.cpu_count()} cores; wall time of the whole `lab grade` command)")


if __name__ == "__main__":
    main()

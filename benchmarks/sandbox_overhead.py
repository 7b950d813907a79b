"""What the sandbox adds to one run, part by part (best of N, so a busy machine's noise
is left out as far as it can be).

    .venv/bin/python benchmarks/sandbox_overhead.py [--rounds 15] [--lab crud]

Parts: the run's sandbox (a uid lease, a private temp dir, the kill of the uid's
processes at the end), the digest of the checker and the lab's checks (taken twice per
run), and starting a command plain versus confined (PID namespace, uid, limits, and the
mount namespace where Python lives in a folder other users cannot enter). A service
forked by the zygote only adds a setresuid and a few setrlimits: microseconds.
Whole-run overhead is measured by benchmarks/check_times.py.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def best(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--lab", default="crud")
    args = parser.parse_args()

    from checker import sandbox
    from checker.catalog import Catalog

    lab = Catalog(ROOT).get(args.lab)
    abilities = sandbox.probe()
    print(f"sandbox here: root={abilities.root} unshare={abilities.unshare} "
          f"userns={abilities.userns} missing={abilities.missing() or 'nothing'}")  # fmt: skip
    print(f"folders shadowed for the run's uid: {sorted(map(str, sandbox.shadow_mounts()))}")

    def box() -> None:
        b = sandbox.Sandbox()
        b.spec().to_env()
        b.code_dir(lab.path)
        b.close()

    def digest() -> None:
        sandbox.digest(lab.checks_path, sandbox.PACKAGE)

    cmd = [sys.executable, "-S", "-c", "pass"]
    b = sandbox.Sandbox()
    try:
        wrapped, env, confine = sandbox.wrap(cmd, {**b.env(), "PATH": "/usr/bin:/bin"})

        def plain() -> None:
            subprocess.run(cmd, check=True)

        def confined() -> None:
            subprocess.run(wrapped, env=env, preexec_fn=confine, check=True)

        rows = [
            ("sandbox: lease, private dir, code dir, close", best(box, args.rounds)),
            ("digest of checker + checks (x2 per run)", 2 * best(digest, args.rounds)),
            ("start `python -S -c pass`, plain", best(plain, args.rounds)),
            ("start `python -S -c pass`, confined", best(confined, args.rounds)),
        ]
    finally:
        b.close()
    width = max(len(r[0]) for r in rows)
    for name, took in rows:
        print(f"{name:<{width}}  {took * 1000:7.1f} ms")
    extra = rows[0][1] + rows[1][1] + rows[3][1] - rows[2][1]
    print(f"{'added to a run whose service the zygote forks':<{width}}  "
          f"{(rows[0][1] + rows[1][1]) * 1000:7.1f} ms")  # fmt: skip
    print(f"{'added to a run with one exec-started process':<{width}}  {extra * 1000:7.1f} ms")


if __name__ == "__main__":
    main()

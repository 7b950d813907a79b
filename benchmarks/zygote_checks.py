"""What the trusted fork server saves: the hidden checks' pytest process started plain
(``python -m pytest``) against forked by the trusted zygote, which has pytest, httpx,
psycopg and redis imported already.

    .venv/bin/python benchmarks/zygote_checks.py [--lab crud] [--rounds 10]

Each round starts the lab's checks process both ways, in alternating order (so a change
in the machine's load hits both alike), as the runner does but with ``--collect-only``:
the time from asking for the process to its exit is its start-up and collection, the
part of every run the fork server takes over. Prints the medians and the load average.
Runs in its own temporary LAB_HOME and stops the fork server it started.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checker.catalog import Catalog  # noqa: E402
from checker.paths import CHECKS_DIR  # noqa: E402
from checker.zygote import ForkedProcess, Zygote  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", default="crud")
    parser.add_argument("--rounds", type=int, default=10)
    opts = parser.parse_args()
    lab = Catalog(ROOT).get(opts.lab)
    args = [str(lab.checks_path), "-p", "checker.pytest_plugin", "--assert=plain", "-q",
            "--no-header", "-p", "no:cacheprovider", "-c", str(CHECKS_DIR / "pytest.ini"),
            "--rootdir", str(lab.checks_path.parent), "--collect-only"]  # fmt: skip
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    cwd = lab.checks_path.parent
    with tempfile.TemporaryDirectory(prefix="lab-zygote-bench-") as tmp:
        zygote = Zygote(Path(tmp), trusted=True)
        zygote.start_in_background()
        deadline = time.monotonic() + 60
        while not zygote.ready():
            if time.monotonic() > deadline:
                sys.exit("the trusted zygote did not start")
            time.sleep(0.1)
        log = Path(tmp) / "checks.log"
        plain, forked = [], []
        try:
            for i in range(opts.rounds):
                for way in ("plain", "forked") if i % 2 == 0 else ("forked", "plain"):
                    t0 = time.perf_counter()
                    if way == "plain":
                        with open(log, "ab") as out:
                            code = subprocess.run([sys.executable, "-m", "pytest", *args],
                                                  cwd=cwd, env=env, stdout=out,
                                                  stderr=subprocess.STDOUT).returncode  # fmt: skip
                        plain.append(time.perf_counter() - t0)
                    else:
                        pid = zygote.run_module("pytest", args, cwd=cwd, env=env, log_path=log)
                        code = ForkedProcess(pid, zygote).wait(timeout=60)
                        forked.append(time.perf_counter() - t0)
                    if code != 0:
                        sys.exit(f"the {way} collection failed (exit {code}): see {log}")
        finally:
            zygote.stop()
    load = os.getloadavg()[0]
    print(f"lab {opts.lab}: the checks' process started and collected, {opts.rounds} rounds, "
          f"load average {load:.1f}")  # fmt: skip
    for name, times in (("plain python -m pytest", plain), ("forked by the zygote", forked)):
        print(f"  {name:24} median {statistics.median(times):.3f} s  "
              f"(min {min(times):.3f}, max {max(times):.3f})")  # fmt: skip


if __name__ == "__main__":
    main()

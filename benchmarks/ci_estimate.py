"""CI's time as labs are added: read from a CI log, extrapolated to more labs.

    bash .ci/run 2>&1 | tee ci.log
    .venv/bin/python benchmarks/ci_estimate.py ci.log [--labs 20] [--wall SECONDS]

Reads the test run's "time by file and by lab" table (tests/conftest.py prints it) and
splits it into what grows with the labs and what does not:

* per lab: its self-verification (its cases that run a timed check, one at a time, on
  its own line; the cases that run two at a time share one line, split between the labs
  by their number of such cases), and its share of the per-lab test files
  (notebooks, schemathesis, public tests, whose every case is one lab);
* fixed: every other test file.

A new lab is assumed to cost what the labs from 09 on cost on average (they are the
larger ones: sinks, workers, races), so the estimate leans high. ``--wall`` is the whole
CI's wall time (the table covers the README's test command only): the rest (installing,
the external path, README line 1) is added as measured, scaled by the labs where it
runs per lab (the external path). Prints the table and the estimate.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checker.catalog import Catalog  # noqa: E402

PER_LAB_FILES = ("tests/test_notebooks.py", "tests/test_schemathesis.py",
                 "tests/test_public_tests.py")  # fmt: skip
ROW = re.compile(r"^\s*([\d.]+) s  (.+)$")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path)
    parser.add_argument("--labs", type=int, default=20)
    parser.add_argument("--wall", type=float, default=None, help="the whole CI, seconds")
    parser.add_argument("--external", type=float, default=0.0,
                        help="seconds of the external path (it runs per lab)")  # fmt: skip
    opts = parser.parse_args()
    text = opts.log.read_text(errors="replace")
    # The first table: the README test command's (the external path prints a second).
    table = text.split("time by file and by lab", 1)[-1].splitlines()
    rows: dict[str, float] = {}
    for line in table[1:]:
        m = ROW.match(line)
        if not m:
            if rows:
                break
            continue
        rows[m.group(2).strip()] = float(m.group(1))
    if not rows:
        sys.exit("no 'time by file and by lab' table in the log")
    total = rows.pop("in all", sum(rows.values()))

    labs = Catalog(ROOT).labs
    from tests.test_selfcheck import lab_cases, pooled

    cases = {lab.id: [pooled(lab, only) for _, only in lab_cases(lab)] for lab in labs}
    pool_each = rows.get("self-verification: cases run two at a time", 0.0) / max(
        sum(sum(c) for c in cases.values()), 1
    )
    shared = sum(rows.get(f, 0.0) for f in PER_LAB_FILES) / len(labs)
    cost = {
        lab.id: rows.get(f"self-verification: {lab.id}", 0.0)
        + pool_each * sum(cases[lab.id])
        + shared
        for lab in labs
    }
    per_lab = sum(cost.values())
    fixed = total - per_lab
    later = [cost[lab.id] for lab in labs if lab.order >= 9] or list(cost.values())
    new_lab = sum(later) / len(later)
    extra = max(opts.labs - len(labs), 0)

    print(f"{'lab':24} {'seconds':>8}  (self-verification + share of per-lab files)")
    for lab in labs:
        how = f"{sum(cases[lab.id])} of {len(cases[lab.id])} cases two at a time"
        print(f"{lab.id:24} {cost[lab.id]:8.1f}  {how}")
    print(f"{'fixed (other files)':24} {fixed:8.1f}")
    print(f"{'the test command':24} {total:8.1f}  ({total / 60:.1f} min, {len(labs)} labs)")
    estimate = total + extra * new_lab
    line = f"at {opts.labs} labs: {estimate:8.1f} s of tests ({estimate / 60:.1f} min)"
    if opts.wall is not None:
        outside = opts.wall - total
        ext_each = opts.external / len(labs)
        whole = opts.wall + extra * (new_lab + ext_each)
        line += (f"; whole CI {opts.wall / 60:.1f} min now, about {whole / 60:.1f} min "
                 f"(outside the tests: {outside:.0f} s)")  # fmt: skip
    print(f"a new lab costs about {new_lab:.0f} s (the mean of labs 09 on)")
    print(line)


if __name__ == "__main__":
    main()

"""README line 1 as a new learner runs it: a fresh clone, a fresh venv, an empty pip cache.

    python3 benchmarks/first_hour.py [--ref HEAD] [--keep]

Clones this repository at REF into a temporary folder, reads line 1 of the README's
Quickstart block there and runs it in one bash, timing each `&&` step, then prints: the
total, the install step, the first (cold) check, the packages the venv holds and its size.
The pip cache is a new empty folder (PIP_CACHE_DIR), so nothing of an earlier build of
the project is reused; the package index is whatever pip is configured with. The clone's
embedded servers are stopped and the clone removed at the end (unless --keep).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def quickstart_line(readme: Path, n: int) -> str:
    lines, inside, block = readme.read_text(encoding="utf-8").splitlines(), False, False
    found: list[str] = []
    for line in lines:
        if line.startswith("## Quickstart"):
            inside = True
        elif inside and line.startswith("```bash"):
            block = True
        elif block and line.startswith("```"):
            break
        elif block:
            found.append(line)
    return found[n - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="HEAD", help="the commit to clone (default HEAD)")
    parser.add_argument("--keep", action="store_true", help="keep the clone")
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="first-hour-"))
    base.chmod(0o755)  # the embedded PostgreSQL runs as its own user: it must reach .lab/
    clone, cache = base / "course", base / "pip-cache"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "-q", args.ref], check=True)
    line = quickstart_line(clone / "README.md", 1)
    steps = [s.strip() for s in line.split("&&")]
    # One bash for the whole line (an activated venv stays active), a timestamp per step.
    script = ["set -e"]
    for i, step in enumerate(steps):
        script += [f'echo "@@step {i} start $(date +%s.%N)" >&2', f"{step} || rc=$?",
                   f'echo "@@step {i} end $(date +%s.%N) ${{rc:-0}}" >&2',
                   # CPU seconds so far: bash's `times` (this shell, then its children)
                   f'{{ echo "@@step {i} cpu"; times; }} >&2',
                   'if [ "${rc:-0}" != 0 ]; then exit "$rc"; fi']  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "LAB_HOME")}
    env.update(PIP_CACHE_DIR=str(cache), COLUMNS="100")
    env["PATH"] = os.pathsep.join(
        p for p in env["PATH"].split(os.pathsep) if not p.endswith("/.venv/bin")
    )
    t0 = time.perf_counter()
    proc = subprocess.run(["bash", "-c", "\n".join(script)], cwd=clone, env=env,
                          capture_output=True, text=True)  # fmt: skip
    total = time.perf_counter() - t0
    marks: dict[int, dict[str, float]] = {}
    err_lines = proc.stderr.splitlines()
    for n, raw in enumerate(err_lines):
        if raw.startswith("@@step "):
            _, i, what, *rest = raw.split()
            if what == "cpu":  # 2 lines of "0m1.234s 0m0.456s": user and system, cumulative
                times = " ".join(err_lines[n + 1 : n + 3]).split()
                secs = [int(t.split("m")[0]) * 60 + float(t.split("m")[1].rstrip("s"))
                        for t in times]  # fmt: skip
                marks.setdefault(int(i), {})["cpu"] = sum(secs)
            else:
                marks.setdefault(int(i), {})[what] = float(rest[0])
    took = {steps[i]: m["end"] - m["start"] for i, m in marks.items() if "end" in m}
    cpu, before = {}, 0.0
    for i, m in sorted(marks.items()):
        if "cpu" in m:
            cpu[steps[i]], before = m["cpu"] - before, m["cpu"]
    venv = clone / ".venv"
    pkgs = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format=json"],
                          capture_output=True, text=True)  # fmt: skip
    packages = [p["name"] for p in json.loads(pkgs.stdout or "[]")]
    size = subprocess.run(["du", "-sm", str(venv)], capture_output=True, text=True).stdout
    cpu_lines = {n + k for n, ln in enumerate(err_lines) if ln.endswith(" cpu") for k in (1, 2)}
    shown = proc.stdout.splitlines() + [
        ln for n, ln in enumerate(err_lines) if not ln.startswith("@@step ") and n not in cpu_lines
    ]
    install = next((t for s, t in took.items() if "pip install" in s), float("nan"))
    check = next((t for s, t in took.items() if "check" in s and "pip" not in s), float("nan"))
    print(f"ref {args.ref}: {line}")
    for step, t in took.items():
        print(f"  {t:6.1f} s  (CPU {cpu.get(step, float('nan')):5.1f} s)  {step}")
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} cores (wall times stretch with it; CPU "
          f"seconds much less)")  # fmt: skip
    print(f"total {total:.1f} s (CPU {sum(cpu.values()):.1f} s) · install {install:.1f} s · first check {check:.1f} s · "
          f"exit {proc.returncode}")  # fmt: skip
    # This machine's pip configuration warns about its local index on every install; a
    # learner's pip does not, so those lines are counted apart.
    local = sum(1 for ln in shown if ln.startswith("WARNING: Location"))
    print(f"packages {len(packages)} (pip list, pip and setuptools included) · venv "
          f"{size.split()[0] if size else '?'} MB · {len(shown) - local} lines of output "
          f"(+{local} warnings of this machine's local index)")  # fmt: skip
    (base / "output.txt").write_text("\n".join(shown) + "\n")
    lab = venv / "bin" / "lab"
    if lab.exists():
        subprocess.run([str(lab), "services", "down"], cwd=clone, env=env, capture_output=True)
    if args.keep:
        print(f"kept: {clone} (its output: {base / 'output.txt'})")
    else:
        shutil.rmtree(base, ignore_errors=True)
    sys.exit(0 if proc.returncode in (0, 1) else proc.returncode)


if __name__ == "__main__":
    main()

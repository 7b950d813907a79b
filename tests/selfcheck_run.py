"""One case of the self-verification in a process of its own: the unit the parallel
self-verification (tests/test_selfcheck.py) runs two at a time.

    python -m tests.selfcheck_run LAB WORKSPACE TARGET ONLY RERUNS

prints one JSON list with, per run, its error (or null) and each check's status and
message, failure kind and hint. The state (LAB_HOME, the embedded servers) is the caller's, from the
environment, exactly as for `lab grade`'s parallel jobs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from checker import runner
from checker.catalog import Catalog
from checker.paths import state_dir
from checker.workspace import Workspace

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> None:
    lab_id, path, target, only, reruns = argv
    lab = Catalog(ROOT).get(lab_id)
    ids = [c for c in only.split(",") if c]
    runs = []
    for _ in range(int(reruns)):
        result = runner.run(lab, Workspace(Path(path), target), state=state_dir(ROOT), only=ids)
        runs.append({
            "error": str(result.error) if result.error else None,
            "seed": result.seed,
            "checks": {c.id: [c.status, c.message, c.kind, c.hint] for c in result.checks},
        })  # fmt: skip
    print(json.dumps(runs))


if __name__ == "__main__":
    main(sys.argv[1:])

"""Every lab's reference solution survives its own OpenAPI (DESIGN.md, principle 3).

For each lab, the solution is composed as ``lab check --solution`` composes it and served
the same way (real PostgreSQL and Redis, the lab's sinks, worker and fault proxy), by
the runner itself: the run's only check is schemathesis, run as a command against the
service's ``/openapi.json``. It generates valid and invalid requests for every operation
(seeded, and bounded by a number of examples, not by time, so that a seed replays) and requires

* ``not_a_server_error``: no 5xx answer, whatever the input;
* ``response_schema_conformance``: every answer matches what the OpenAPI documents.

The seed is fixed (``LAB_SCHEMATHESIS_SEED`` overrides it) so a failure replays exactly.
Each lab's run is a process of its own, two at a time (tests/apart.py).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from checker import runner
from checker.catalog import Catalog, Check, Lab
from checker.paths import state_dir
from checker.workspace import compose

from . import apart
from .conftest import ROOT

LABS = Catalog(ROOT).labs
SEED = int(os.environ.get("LAB_SCHEMATHESIS_SEED", "20261204"))
MAX_EXAMPLES = int(os.environ.get("LAB_SCHEMATHESIS_EXAMPLES", "25"))
# Bounded by the number of examples only: a time budget would make the same seed cover
# more or less of the API depending on the machine's load (a CI run once found a 500 that
# the runs before it, on the same seed, had not reached). The time limit below only stops
# a hung run.
MAX_TIME_S = 120

pytestmark = pytest.mark.slow

# What a client of the lab is given (README): without it every request would stop at 401.
HEADERS = {"idempotency": ["Authorization: Bearer sk_test_bookshop"]}

# What runs before schemathesis, in the solution's folder, as the service's role: lab 12's
# checks apply its revisions mid-check (the service starts on revision 0001).
PREPARE = {"zero-downtime-migrations": [["alembic", "-c", "alembic.ini", "upgrade", "head"]]}

# The run's one check: schemathesis's command line against the running service.
CHECK = textwrap.dedent(
    f'''
    import os
    import subprocess
    import sys
    from pathlib import Path

    import pytest


    def _dangling(doc):
        """Every local $ref of the document that points nowhere (a `#/$defs/...` of
        pydantic's, embedded in a response, points at the document's root)."""
        found, stack = [], [doc]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str) and ref.startswith("#/"):
                    target = doc
                    for part in ref[2:].split("/"):
                        part = part.replace("~1", "/").replace("~0", "~")
                        target = target.get(part) if isinstance(target, dict) else None
                    if target is None:
                        found.append(ref)
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
        return sorted(set(found))


    @pytest.mark.check("schemathesis")
    def test_schemathesis(base_url):
        import httpx

        for args in PREPARE:  # the schema the solution runs on, when the checks make it
            env = {{**os.environ, "DATABASE_URL": os.environ["LAB_SERVICE_DATABASE_URL"]}}
            code = os.environ.get("LAB_LEARNER_CODE") or os.environ["LAB_WORKSPACE"]
            subprocess.run([sys.executable, "-m", *args], cwd=code, env=env, check=True,
                           capture_output=True, timeout=300)
        dangling = _dangling(httpx.get(base_url + "/openapi.json", timeout=10).json())
        assert not dangling, f"/openapi.json has references to nothing: {{dangling}}"
        st = Path(sys.executable).with_name("st")
        headers = [h for value in HEADERS for h in ("--header", value)]
        cmd = [
            str(st), "run", base_url + "/openapi.json",
            "--checks", "not_a_server_error,response_schema_conformance",
            "--seed", "{SEED}", "--max-examples", "{MAX_EXAMPLES}",
            "--workers", "1",
            "--phases", "examples,coverage,fuzzing",
            "--generation-database", "none", "--request-timeout", "5",
            "--no-color", "--output-truncate", "false",
            "--suppress-health-check", "all", "--warnings", "off", *headers,
        ]
        env = {{**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}}
        out = subprocess.run(cmd, capture_output=True, text=True, timeout={MAX_TIME_S} + 60,
                             env=env, stdin=subprocess.DEVNULL)
        report = out.stdout + out.stderr
        assert out.returncode == 0, report[-12000:]
    '''
)


def _checks_dir(tmp: Path, lab: Lab) -> Path:
    """A checks folder with the schemathesis check and the lab's template SQL."""
    folder = tmp / lab.id.replace("-", "_")
    folder.mkdir(parents=True)
    for rel in lab.template_sql:
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(lab.checks_path / rel, folder / rel)
    headers = f"HEADERS = {HEADERS.get(lab.id, [])!r}\nPREPARE = {PREPARE.get(lab.id, [])!r}\n"
    (folder / "test_schemathesis.py").write_text(CHECK + headers)
    return tmp


def serve_and_fuzz(lab: Lab, tmp: Path) -> dict:
    """The schemathesis run against ``lab``'s solution, in a process of its own
    (``python -m tests.test_schemathesis LAB CHECKS``): its error, status and message."""
    checks = _checks_dir(tmp / lab.id / "checks", lab)
    proc = subprocess.run(
        [sys.executable, "-m", "tests.test_schemathesis", lab.id],
        cwd=ROOT, capture_output=True, text=True, timeout=MAX_TIME_S + 240,
        env={**os.environ, "LAB_CHECKS_DIR": str(checks)},
    )  # fmt: skip
    if proc.returncode != 0:
        return {"error": f"the run's process failed:\n{proc.stderr[-3000:]}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def fuzzed(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("schemathesis")
    return apart.prefetch(request, "test_solution_survives_its_own_openapi",
                          lambda lab: serve_and_fuzz(lab, tmp))  # fmt: skip


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.id)
def test_solution_survives_its_own_openapi(lab: Lab, request, fuzzed):
    got = apart.take(request, fuzzed)
    assert got["error"] is None, f"the run could not be judged: {got['error']}"
    assert got["status"] == "pass", f"{lab.id}: schemathesis found problems:\n{got['message']}"


def main(lab_id: str) -> None:
    """Serve the solution of ``lab_id`` and run the one check of LAB_CHECKS_DIR on it;
    print the verdict as JSON."""
    lab = Catalog(ROOT).get(lab_id)
    only = Check(id="schemathesis", title="schemathesis finds no server error", points=1)
    probe = dataclasses.replace(lab, checks=(only,))
    opts = runner.RunOptions.from_env()
    opts.checks_timeout_s = MAX_TIME_S + 90
    with compose(lab) as ws:
        result = runner.run(probe, ws, state=state_dir(ROOT), options=opts)
    got = result.checks[0] if result.checks else None
    print(json.dumps({
        "error": str(result.error) if result.error else None,
        "status": got.status if got else None,
        "message": got.message if got else "",
    }))  # fmt: skip


if __name__ == "__main__":
    main(*sys.argv[1:])

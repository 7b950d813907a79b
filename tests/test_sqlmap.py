"""Lab 14's search, verified by an independent tool: sqlmap, in batch mode, finds the
injection in ``q`` in the starter and none in the solution.

Never run at check time (sqlmap takes seconds and floods the service); here each side is
served as the notebook serves it (a fresh database, the lab's sinks) and sqlmap runs a
narrow configuration: parameter ``q`` only, boolean-blind and UNION techniques, level 2.
sqlmap keeps a history under ``~/.local/share/sqlmap`` whatever ``--output-dir`` says, so
it runs with HOME in a temporary folder too; the real home must not change.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from checker.notebook import open_lab

pytestmark = pytest.mark.slow

SQLMAP = Path(sys.executable).with_name("sqlmap")


def _sqlmap(url: str, tmp: Path) -> str:
    home = tmp / "home"
    home.mkdir()
    cmd = [
        str(SQLMAP), "-u", f"{url}/books/search?q=Dune&sort=title", "-p", "q",
        "--technique=BU", "--level", "2", "--batch", "--disable-coloring",
        "--output-dir", str(tmp / "out"),
    ]  # fmt: skip
    env = {**os.environ, "HOME": str(home)}
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env,
                         stdin=subprocess.DEVNULL)  # fmt: skip
    return out.stdout + out.stderr


@pytest.mark.skipif(not SQLMAP.exists(), reason="sqlmap is not installed (pip install -e '.[dev]')")
@pytest.mark.parametrize("solution", [False, True], ids=["starter", "solution"])
def test_sqlmap_judges_the_search(solution: bool, tmp_path: Path) -> None:
    home = Path(os.environ["HOME"])
    written = [home / ".local" / "share" / "sqlmap", home / ".sqlmap"]
    before = [p.exists() for p in written]
    with open_lab("security", solution=solution).start() as svc:
        report = _sqlmap(svc.url, tmp_path)
    found = "Parameter: q (GET)" in report
    if solution:
        assert not found and "does not seem to be injectable" in report, report[-4000:]
    else:
        assert found and "boolean-based blind" in report, report[-4000:]
    assert [p.exists() for p in written] == before, "sqlmap wrote to the home folder"

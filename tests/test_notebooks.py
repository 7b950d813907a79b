"""Every lab's notebook executes headless (nbclient, a real kernel) against the embedded
services, and writes nothing to the user's home folder.

Each notebook runs in a process of its own (``python -m tests.test_notebooks LAB OUT``),
two at a time (tests/apart.py): most of a notebook's time is its kernel starting and the
lab's check waiting on its service."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from checker.catalog import Catalog

from . import apart
from .conftest import ROOT

LABS = Catalog(ROOT).labs


def execute(lab, tmp: Path) -> tuple[nbformat.NotebookNode, str]:
    """The notebook of ``lab`` as executed by a kernel of its own, and what the process
    printed on failure."""
    out = tmp / f"{lab.id}.ipynb"
    env = {**os.environ, "JUPYTER_PLATFORM_DIRS": "1"}
    for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                     ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython"),
                     ("MPLCONFIGDIR", "mpl")):  # fmt: skip
        env[var] = str(tmp / lab.id / sub)
    proc = subprocess.run([sys.executable, "-m", "tests.test_notebooks", lab.id, str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    if proc.returncode != 0:
        return None, proc.stdout[-3000:] + proc.stderr[-5000:]
    return nbformat.read(out, as_version=4), ""


@pytest.fixture(scope="module")
def home_before() -> list[Path]:
    return sorted(Path(os.environ["HOME"]).rglob("*"))


@pytest.fixture(scope="module")
def executed(request, home_before, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("notebooks")
    return apart.prefetch(request, "test_notebook_executes", lambda lab: execute(lab, tmp))


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.id)
def test_notebook_executes(lab, request, executed, home_before):
    source = nbformat.read(lab.notebook_path, as_version=4)
    assert all(not c.get("outputs") for c in source.cells if c.cell_type == "code"), (
        "notebooks are committed without outputs"
    )
    nb, failure = apart.take(request, executed)
    assert nb is not None, f"the notebook did not execute:\n{failure}"
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, errors
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert f"lab check {lab.id}" in html and "score" in html, "the check result is shown"
    widgets = [
        o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert widgets, "the check panel widget renders"
    assert sorted(Path(os.environ["HOME"]).rglob("*")) == home_before, "nothing written to $HOME"


def main(lab_id: str, out: str) -> None:
    """Execute one lab's notebook as the notebooks folder's kernel would, and save it."""
    from nbclient import NotebookClient

    nb = nbformat.read(Catalog(ROOT).get(lab_id).notebook_path, as_version=4)
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "notebooks")}})  # fmt: skip
    try:
        client.execute()
    finally:
        nbformat.write(nb, out)


if __name__ == "__main__":
    main(*sys.argv[1:])

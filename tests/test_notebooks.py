"""Every lab's notebook executes headless (nbclient, a real kernel) against the embedded
services, and writes nothing to the user's home folder."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from checker.catalog import Catalog

from .conftest import ROOT

LABS = Catalog(ROOT).labs


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.id)
def test_notebook_executes(lab, tmp_path, monkeypatch):
    home = Path(os.environ["HOME"])
    before = sorted(home.rglob("*"))
    for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                     ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython"),
                     ("MPLCONFIGDIR", "mpl")):  # fmt: skip
        monkeypatch.setenv(var, str(tmp_path / sub))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    nb = nbformat.read(lab.notebook_path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), (
        "notebooks are committed without outputs"
    )
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "notebooks")}})  # fmt: skip
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, errors
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert f"lab check {lab.id}" in html and "score" in html, "the check result is shown"
    widgets = [
        o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert widgets, "the check panel widget renders"
    assert sorted(home.rglob("*")) == before, "nothing written to $HOME"

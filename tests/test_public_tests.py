"""Each lab's public tests (the ones learners run and extend) pass on the starter as
shipped and on the reference solution."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from checker.catalog import Catalog
from checker.workspace import compose

from .conftest import ROOT

LABS = [lab for lab in Catalog(ROOT).labs if (lab.path / "tests").is_dir()]


@pytest.mark.parametrize("solution", [False, True], ids=["starter", "solution"])
@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.id)
def test_public_tests_pass(lab, solution):
    with compose(lab, solution=solution) as ws:
        res = subprocess.run(
            [sys.executable, "-m", "pytest", str(ws.path / "tests"), "-q", "-W", "error",
             "-p", "no:cacheprovider"],
            cwd=ws.path, capture_output=True, text=True, timeout=300,
            env={**os.environ, "LAB_COURSE_DIR": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"},
        )  # fmt: skip
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert " passed" in res.stdout

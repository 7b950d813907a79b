"""Each lab's public tests (the ones learners run and extend) pass on the starter as
shipped and on the reference solution. Each run is a process of its own, two at a time
(tests/apart.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from checker.catalog import Catalog
from checker.workspace import compose

from . import apart
from .conftest import ROOT

LABS = [lab for lab in Catalog(ROOT).labs if (lab.path / "tests").is_dir()]


def run_public_tests(lab, solution: bool) -> subprocess.CompletedProcess:
    with compose(lab, solution=solution) as ws:
        return subprocess.run(
            [sys.executable, "-m", "pytest", str(ws.path / "tests"), "-q", "-W", "error",
             "-p", "no:cacheprovider"],
            cwd=ws.path, capture_output=True, text=True, timeout=300,
            env={**os.environ, "LAB_COURSE_DIR": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"},
        )  # fmt: skip


@pytest.fixture(scope="module")
def ran(request):
    return apart.prefetch(request, "test_public_tests_pass", run_public_tests)


@pytest.mark.parametrize("solution", [False, True], ids=["starter", "solution"])
@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.id)
def test_public_tests_pass(lab, solution, request, ran):
    res = apart.take(request, ran)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert " passed" in res.stdout

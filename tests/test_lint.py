"""ruff keeps the code (checker, labs, solutions, notebooks, tests) clean and formatted."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT


def test_ruff_check():
    res = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT,
                         capture_output=True, text=True)  # fmt: skip
    assert res.returncode == 0, res.stdout


def test_ruff_format():
    res = subprocess.run([sys.executable, "-m", "ruff", "format", "--check", "."], cwd=ROOT,
                         capture_output=True, text=True)  # fmt: skip
    assert res.returncode == 0, res.stdout

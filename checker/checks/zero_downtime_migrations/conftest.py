"""The rollout is played once per run (timeline.py), the first time a check asks for it;
every check judges its own part of the same record."""

from __future__ import annotations

import os
import random
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from timeline import Timeline  # noqa: E402


@pytest.fixture(scope="session")
def rollout(base_url):
    from checker.pytest_plugin import progress

    workspace = Path(os.environ.get("LAB_LEARNER_CODE") or os.environ["LAB_WORKSPACE"])
    workdir = Path(tempfile.mkdtemp(prefix="lab-zdm-"))
    rng = random.Random(f"{os.environ.get('LAB_SEED') or '0'}:rollout")
    timeline = Timeline(
        admin_url=os.environ["LAB_RUN_DATABASE_URL"],
        service_url=os.environ["LAB_SERVICE_DATABASE_URL"],
        root_admin_url=os.environ["LAB_ADMIN_DATABASE_URL"],
        workspace=workspace,
        workdir=workdir,
        rng=rng,
        progress=progress,
    )
    try:
        yield timeline.run(base_url)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

"""The instructor's commands: release, grade, worker, gradebook, verify, dashboard.

Registered on the `lab` app by ``checker.cli`` when this package is present (the student
edition ships without it). Each command lives in a module of its own in ``verbs/``.
"""

from __future__ import annotations

import typer

from .verbs import MODULES


def register(app: typer.Typer) -> None:
    for module in MODULES:
        module.register(app)

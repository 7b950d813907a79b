"""Sidecars: the helper processes a run starts beside the learner's service.

Each module here is one kind (``sinks``: stand-in providers; ``redis_proxy``: a Redis
link the checks can cut; ``worker``: the learner's RQ worker under a supervisor), built
on ``base``: it is both the sidecar's own program (``python -m checker.sidecars.NAME``)
and, in a ``Sidecar`` subclass named by its module's ``SIDECAR``, what the run needs to
know: the lab.toml key that asks for it, the environment it exports to the service and
to the checks, and its pytest fixture.

Adding a sidecar is adding one module that defines ``SIDECAR``: the session starts it
for the labs that want it, and the pytest plugin offers its fixture. Nothing here may
import learner code; a sidecar process imports the standard library (and what its own
job needs) only, so it starts in tens of milliseconds.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil

from .base import Context, Exports, Helper, Sidecar, SidecarFailed

__all__ = ["Context", "Exports", "Helper", "Sidecar", "SidecarFailed", "all_sidecars", "for_lab"]


@functools.cache
def all_sidecars() -> tuple[type[Sidecar], ...]:
    """Every sidecar kind, in start order (their ``order``)."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if isinstance(getattr(module, "SIDECAR", None), type):
            found.append(module.SIDECAR)
    return tuple(sorted(found, key=lambda s: (s.order, s.__name__)))


def for_lab(lab: object) -> list[type[Sidecar]]:
    """The sidecars a lab asks for, in start order."""
    return [s for s in all_sidecars() if s.wanted(lab)]

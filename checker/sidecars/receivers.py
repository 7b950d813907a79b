"""Webhook receivers: endpoints the learner's service delivers events to.

``receivers = ["merchant_a", "merchant_b"]`` in lab.toml starts one receiver per name:
the same program as a provider sink (``checker.sidecars.sinks``: it records every call
with its raw bytes, headers in order and case, arrival times, and can fail, hang or
slow down on order), but the service is not told where it is. A check registers it the
way a merchant would, through the service's own API (``POST /webhook-endpoints`` with
``receivers["merchant_a"].url``), and then reads what arrived there, byte for byte, to
verify signatures. The checks get them as ``LAB_RECEIVERS`` (JSON) and through the
``receivers`` fixture: a dict of ``checker.observe.sinks.Sink`` by name, each reset.

This module is the whole of the sidecar: a new kind of helper process costs one module.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .base import Context, Exports, Sidecar


class Receivers(Sidecar):
    key = "receivers"
    order = 11
    early = True
    fixture = "receivers"
    phase = "webhook receivers"

    def start(self) -> None:
        for name in self.ctx.lab.receivers:
            self.spawn(f"{name!r} webhook receiver", "checker.sidecars.sinks", [name],
                       stem=f"receiver-{name}")  # fmt: skip

    def urls(self) -> dict[str, str]:
        return {h.stem.removeprefix("receiver-"): h.url() for h in self.helpers}

    def exports(self) -> Exports:
        # Nothing for the service: it learns a receiver's URL only when a check
        # registers it through the service's API, as a merchant would.
        return Exports(checks={"LAB_RECEIVERS": json.dumps(self.urls())})

    @staticmethod
    def provide():
        """The run's webhook receivers by name, each reset for this test."""
        import os

        from ..observe.sinks import Sink

        declared = json.loads(os.environ.get("LAB_RECEIVERS") or "{}")
        if not declared:
            raise RuntimeError("this lab declares no receivers (lab.toml: receivers = [...])")
        opened = {name: Sink(name, url) for name, url in declared.items()}
        try:
            for receiver in opened.values():
                receiver.reset()
            yield opened
        finally:
            for receiver in opened.values():
                receiver.close()


def launch(names: list[str], *, run_dir: Path, env: dict[str, str]) -> Receivers:
    """Receivers outside a run (tests): started, not yet awaited."""
    from types import SimpleNamespace

    lab: Any = SimpleNamespace(receivers=tuple(names))
    sidecar = Receivers(Context(lab, run_dir, run_dir, env))
    sidecar.start()
    return sidecar


SIDECAR = Receivers

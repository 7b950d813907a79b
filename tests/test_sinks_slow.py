"""The sinks' ``slow`` mode (lab 07 uses it to make a race certain): held, then delivered."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from checker.observe.sinks import Sink
from checker.sidecars.sinks import launch


def test_slow_calls_are_held_then_delivered(tmp_path: Path):
    launched = launch(["payments"], run_dir=tmp_path, env=dict(os.environ))
    try:
        sink = Sink("payments", launched.urls()["payments"])
        sink.slow_next(3, delay=0.3)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(3) as pool:
            answers = list(pool.map(
                lambda i: httpx.post(f"{sink.url}/charges", json={"order_id": "o1", "n": i}),
                range(3),
            ))  # fmt: skip
        took = time.perf_counter() - t0
        assert [r.status_code for r in answers] == [200, 200, 200]
        assert 0.3 <= took < 2.5, "held together, not one after another"
        assert sink.count("o1") == 3
        assert {c["outcome"] for c in sink.calls()} == {"slow"}
        assert httpx.post(f"{sink.url}/charges", json={"order_id": "o2"}).status_code == 200
        assert sink.calls("o2")[0]["outcome"] == "ok", "only the next n calls are slow"
        sink.close()
    finally:
        launched.stop()

"""`lab notebook` and `lab docs` start real servers a person can open."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from checker.services.base import free_port

from .conftest import ROOT


def serve_and_get(args: list[str], url_path: str, timeout: float = 90) -> httpx.Response:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "checker", *args, "--port", str(port)], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                return httpx.get(f"http://127.0.0.1:{port}{url_path}", timeout=5)
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                    raise AssertionError(f"the server did not answer:\n{out[-3000:]}") from None
                time.sleep(0.3)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stdout.close()


def test_lab_notebook_serves_jupyterlab_without_touching_home():
    home = Path(os.environ["HOME"])
    before = sorted(home.rglob("*"))
    r = serve_and_get(["notebook", "--no-browser"], "/api")
    assert r.status_code == 200 and "version" in r.json()
    assert sorted(home.rglob("*")) == before, "Jupyter wrote to $HOME"
    assert (Path(os.environ["LAB_HOME"]) / "jupyter").is_dir()


def test_lab_docs_serves_the_site():
    r = serve_and_get(["docs"], "/labs/crud/")
    assert r.status_code == 200
    assert "A catalog API that behaves" in r.text

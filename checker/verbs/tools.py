"""`lab docs` and `lab notebook`: the docs site and JupyterLab, with their state kept
under .lab/ (never in the user's home folder)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def jupyter_env(state: Path) -> dict[str, str]:
    env = dict(os.environ)
    base = state / "jupyter"
    env.update(
        JUPYTER_CONFIG_DIR=str(base / "config"),
        JUPYTER_DATA_DIR=str(base / "data"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        IPYTHONDIR=str(base / "ipython"),
        MPLCONFIGDIR=str(base / "matplotlib"),
        JUPYTER_PLATFORM_DIRS="1",
        # JupyterLab may run node/npm (extension checks); they cache under $HOME too.
        npm_config_cache=str(base / "npm"),
        XDG_CACHE_HOME=str(base / "cache"),
        XDG_CONFIG_HOME=str(base / "config"),
        XDG_DATA_HOME=str(base / "data"),
    )
    return env


def notebook(root: Path, state: Path, port: int, open_browser: bool) -> int:
    args = [
        sys.executable, "-m", "jupyterlab", f"--notebook-dir={root / 'notebooks'}",
        f"--port={port}", "--ip=127.0.0.1",
    ]  # fmt: skip
    if not open_browser:
        args.append("--no-browser")
    if os.geteuid() == 0:  # containers and CI run as root; Jupyter refuses it otherwise
        args.append("--allow-root")
    return subprocess.call(args, cwd=root, env=jupyter_env(state))


def free_port_from(port: int, tries: int = 20) -> int:
    """``port`` if nothing listens on 127.0.0.1:port, else the next free one."""
    import socket

    from ..errors import UsageError

    for candidate in range(port, min(port + tries, 65536)):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return candidate
    raise UsageError(f"Ports {port} to {port + tries - 1} are all taken: pick one with --port.")


def docs(root: Path, port: int) -> int:
    args = [sys.executable, "-m", "mkdocs", "serve", "-f", str(root / "mkdocs.yml"),
            "-a", f"127.0.0.1:{port}"]  # fmt: skip
    return subprocess.call(args, cwd=root)

"""`lab watch`: re-check on every save. File events through watchfiles where the
platform delivers them, polling where it does not (network drives, some containers)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console

from ..errors import LabError

WATCHED = (".py", ".toml", ".sql", ".ini", ".cfg", ".txt", ".json", ".yaml", ".yml", ".md")
SKIP_DIRS = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".venv", ".lab", ".git"}


def snapshot(root: Path) -> dict[str, float]:
    state: dict[str, float] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        for name in filenames:
            if name.endswith(WATCHED):
                p = os.path.join(dirpath, name)
                try:
                    state[p] = os.stat(p).st_mtime_ns
                except OSError:
                    continue
    return state


def poll_changes(root: Path, interval: float = 0.5) -> Iterator[set[str]]:
    before = snapshot(root)
    while True:
        time.sleep(interval)
        now = snapshot(root)
        changed = {p for p in before.keys() | now.keys() if before.get(p) != now.get(p)}
        before = now
        if changed:
            yield changed


def event_changes(root: Path) -> Iterator[set[str]]:
    from watchfiles import watch

    for batch in watch(root, debounce=300, rust_timeout=0, raise_interrupt=True):
        changed = {
            p for _, p in batch if p.endswith(WATCHED) and not SKIP_DIRS & set(Path(p).parts)
        }
        if changed:
            yield changed


def watch(lab_id: str, *, path: Path | None, poll: bool, run_check, console: Console) -> None:
    from ..workspace import for_lab
    from .common import find_lab

    lab = find_lab(lab_id)
    root = for_lab(lab, path).path
    force_poll = poll or os.environ.get("LAB_WATCH_POLL") == "1"
    changes = poll_changes(root) if force_poll else event_changes(root)
    mode = "polling" if force_poll else "file events"
    try:
        while True:
            try:
                run_check()
            except LabError as exc:
                console.print(f"[yellow]{exc.message}[/]")
            console.print(
                f"\n[dim]Watching {root} ({mode}); save a file to re-check, Ctrl-C to stop.[/]"
            )
            try:
                changed = next(changes)
            except OSError:
                if force_poll:
                    raise
                console.print("[dim]File events are not available here: polling instead.[/]")
                changes, mode, force_poll = poll_changes(root), "polling", True
                changed = next(changes)
            shown = ", ".join(sorted(Path(p).name for p in changed)[:5])
            console.rule(f"[dim]changed: {shown}[/]")
    except KeyboardInterrupt:
        console.print("\n[dim]Stopped watching.[/]")

"""The learner's service seen from outside: its output as records, and signals.

**Logs** (``ServiceLog``, the ``logs`` fixture): everything the service printed (stdout
and stderr, unbuffered), read from its log file(s), one per instance. A check takes a
``mark()``, makes requests, then reads what came since: ``records()`` are the lines that
parse as a JSON object, ``stray()`` the lines that do not (a traceback printed raw, an
access line from a logger nobody configured). ``wait_for(...)`` waits a short while for a
line that must come (a log line is written after the response is sent)::

    def test_logs_are_json(http, logs):
        mark = logs.mark()
        http.get("/books/1")
        line = logs.wait_for(lambda r: r.get("path") == "/books/1", since=mark)
        assert line is not None, "expected an access line for GET /books/1"
        assert logs.stray(since=mark) == [], "every line should be one JSON object"

**Signals** (``ServiceProcess``, the ``service`` fixture): ``service.signal("SIGTERM")``
sends a signal to an instance's process, as an orchestrator would, and records it so
the run does not call the stop a crash; ``wait_exit`` gives its exit code.

This module depends on nothing of the engine (observe/ never does).
"""

from __future__ import annotations

import json
import os
import signal as signals
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Where the ``service`` fixture records the signals it sent (next to the service logs).
SIGNALS_FILE = "signals.jsonl"


@dataclass(frozen=True)
class Line:
    text: str
    record: dict[str, Any] | None  # the JSON object, if the line is one
    instance: int = 0


Mark = tuple[int, ...]


class ServiceLog:
    """The output of every instance of the service (``service.log``, ``service-2.log``...)."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = [Path(p) for p in paths]
        self._start = self.mark()

    @classmethod
    def from_env(cls) -> ServiceLog:
        paths = os.environ.get("LAB_SERVICE_LOGS") or os.environ["LAB_SERVICE_LOG"]
        return cls([Path(p) for p in paths.split(os.pathsep) if p])

    def mark(self) -> Mark:
        """Where the output ends now: pass it as ``since`` to read only what follows."""
        return tuple(_size(p) for p in self.paths)

    def lines(self, since: Mark | None = None) -> list[Line]:
        """Every complete line since ``since`` (default: since the fixture was made)."""
        since = since or self._start
        out: list[Line] = []
        for i, (path, offset) in enumerate(zip(self.paths, since, strict=True)):
            try:
                with open(path, "rb") as f:
                    f.seek(offset)
                    data = f.read()
            except OSError:
                continue
            complete = data[: data.rfind(b"\n") + 1].decode("utf-8", errors="replace")
            out += [Line(t, _record(t), i) for t in complete.splitlines() if t.strip()]
        return out

    def records(self, since: Mark | None = None) -> list[dict[str, Any]]:
        """The lines that are one JSON object each, parsed."""
        return [ln.record for ln in self.lines(since) if ln.record is not None]

    def stray(self, since: Mark | None = None) -> list[str]:
        """The lines that are not a JSON object."""
        return [ln.text for ln in self.lines(since) if ln.record is None]

    def wait_for(self, match: str | Callable[[dict[str, Any]], bool], *,
                 since: Mark | None = None, timeout: float = 2.0) -> Line | None:  # fmt: skip
        """The first line since ``since`` that contains ``match`` (a string) or whose
        record satisfies it (a function), waiting up to ``timeout`` s; None if none came."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.lines(since):
                if _matches(line, match):
                    return line
            if time.monotonic() > deadline:
                return None
            time.sleep(0.02)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _record(text: str) -> dict[str, Any] | None:
    text = text.strip()
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _matches(line: Line, match: str | Callable[[dict[str, Any]], bool]) -> bool:
    if isinstance(match, str):
        return match in line.text
    if line.record is None:
        return False
    try:
        return bool(match(line.record))
    except (KeyError, TypeError, ValueError):
        return False


class ServiceProcess:
    """The service's instances as processes: send a signal, wait for an exit."""

    def __init__(self, pids: list[int], record: Path | None = None) -> None:
        self.pids, self.record = pids, record

    @classmethod
    def from_env(cls) -> ServiceProcess:
        pids = [int(p) for p in os.environ["LAB_SERVICE_PIDS"].split(",") if p]
        logs = os.environ.get("LAB_SERVICE_LOG")
        return cls(pids, Path(logs).parent / SIGNALS_FILE if logs else None)

    def signal(self, name: str, *, instance: int = 0) -> None:
        """Send ``name`` (``"SIGTERM"``, ``"SIGHUP"``, ``"SIGINT"``...) to an instance."""
        signum = signals.Signals[name if name.startswith("SIG") else f"SIG{name}"]
        pid = self.pids[instance]
        if self.record is not None:
            with open(self.record, "a", encoding="utf-8") as f:
                f.write(json.dumps({"pid": pid, "signal": signum.name, "at": time.time()}) + "\n")
        os.kill(pid, signum)

    def alive(self, instance: int = 0) -> bool:
        try:
            os.kill(self.pids[instance], 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return not _zombie(self.pids[instance])

    def wait_exit(self, *, instance: int = 0, timeout: float = 10.0) -> bool:
        """Wait until the instance has exited; True if it did within ``timeout``."""
        deadline = time.monotonic() + timeout
        while self.alive(instance):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True


def signalled_pids(run_dir: Path) -> set[int]:
    """The pids the checks sent a signal to in this run (so their exit is no crash)."""
    try:
        text = (run_dir / SIGNALS_FILE).read_text(encoding="utf-8")
    except OSError:
        return set()
    pids = set()
    for line in text.splitlines():
        try:
            pids.add(int(json.loads(line)["pid"]))
        except (ValueError, KeyError, TypeError):
            continue
    return pids


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] == "Z"

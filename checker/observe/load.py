"""Load runs with locust, observed from outside: counts, failures, percentiles, throughput.

Locust always runs as a subprocess of its own (``python -m locust --headless``), in a
session of its own (``checker.process``), so it is killed with its whole group whatever
happens. Importing locust monkey-patches the interpreter with gevent (DESIGN.md,
principle 7): nothing here imports it, and neither may a check.

One output format per run: locust's ``--json-file``, written once the run is over
(its ``--csv`` files are snapshots taken every second and never rewritten at the end,
so a short run's CSV misses its last second). Per endpoint it gives the request and
failure counts, the response-time histogram (percentiles are computed from it, as
locust does) and the first and last request times (throughput). A small plugin file
loaded beside the locustfile (``_locust_plugin.py``) streams live progress.

A run in which locust itself used (nearly) a whole CPU core measured locust, not the
service: it is invalid, retried once, then reported as :class:`LoadInvalid` (a check
turns that into an error verdict, never a fail).

Ratio helpers (usable by any lab): :func:`throughput_ratio`, :func:`p95_ratio`; see
``connections.py`` for the server-side connection count.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# observe/ depends on no engine module: locust is started and stopped right here.


def tail(path: Path, lines: int = 30, max_bytes: int = 64_000) -> str:
    """The last ``lines`` of a log file (reads at most ``max_bytes`` from its end)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - max_bytes))
            data = f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


#: Confines a command (args, env) -> (args, env, preexec_fn): the run's sandbox, for a
#: locustfile of the learner's (``checker.sandbox.ForChecks.wrap``).
Confine = Callable[[list[str], dict[str, str]], tuple[list[str], dict[str, str], Any]]


def _spawn(args: list[str], *, cwd: Path, env: dict[str, str], log_path: Path,
           confine: Confine | None = None):  # fmt: skip
    """Locust in a session of its own, so its whole group can be killed."""
    import subprocess

    preexec = None
    if confine is not None:
        args, env, preexec = confine(args, env)
    with open(log_path, "ab") as log:
        return subprocess.Popen(args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=preexec)  # fmt: skip


def _kill(proc) -> None:
    import signal

    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    with contextlib.suppress(Exception):
        proc.wait(timeout=5)


PLUGIN = Path(__file__).with_name("_locust_plugin.py")

#: A run in which locust used more than this share of one core is not trusted.
MAX_LOCUST_CPU = 0.90
#: What locust itself logs when it notices (only every 10 s, so rarely in short runs).
LOCUST_CPU_WARNING = "CPU usage above"

Progress = Callable[[dict[str, Any]], None]


class LoadError(Exception):
    """A load run that could not be judged. ``str(err)`` is written for the learner;
    ``log_tail`` holds the end of locust's own output."""

    #: The pytest plugin reports such an exception as an error verdict, with this message.
    cannot_judge = True

    def __init__(self, message: str, log_tail: str = "") -> None:
        super().__init__(message)
        self.message, self.log_tail = message, log_tail


class LocustCouldNotRun(LoadError):
    """Locust exited without results: the locustfile failed to load, or locust crashed."""


class LoadInvalid(LoadError):
    """Locust saturated its own CPU core in every attempt: its numbers are not the service's."""


@dataclass
class Endpoint:
    """One row of locust's statistics (or the aggregate of several)."""

    method: str
    name: str
    requests: int = 0
    failures: int = 0
    histogram: dict[int, int] = field(default_factory=dict)  # rounded ms -> count
    total_ms: float = 0.0
    max_ms: float = 0.0
    first: float | None = None  # when the stats started (epoch seconds)
    last: float | None = None  # the last request's time

    def percentile(self, q: float) -> int:
        """The response time (ms) that a share ``q`` of the requests stayed within,
        computed from the histogram exactly as locust computes its own."""
        if not self.requests:
            return 0
        wanted = int(self.requests * q)
        seen = 0
        for ms in sorted(self.histogram, reverse=True):
            seen += self.histogram[ms]
            if self.requests - seen <= wanted:
                return ms
        return 0

    @property
    def p50(self) -> int:
        return self.percentile(0.50)

    @property
    def p95(self) -> int:
        return self.percentile(0.95)

    @property
    def p99(self) -> int:
        return self.percentile(0.99)

    @property
    def avg_ms(self) -> float:
        return self.total_ms / self.requests if self.requests else 0.0

    @property
    def rps(self) -> float:
        """Requests per second over the run (locust's own definition of total RPS)."""
        if not self.requests or self.first is None or self.last is None:
            return 0.0
        return self.requests / max(self.last - self.first, 1e-3)

    @property
    def failure_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    def merged(self, other: Endpoint) -> Endpoint:
        hist = dict(self.histogram)
        for ms, n in other.histogram.items():
            hist[ms] = hist.get(ms, 0) + n
        firsts = [t for t in (self.first, other.first) if t is not None]
        lasts = [t for t in (self.last, other.last) if t is not None]
        return Endpoint(
            self.method if self.method == other.method else "",
            self.name,
            self.requests + other.requests,
            self.failures + other.failures,
            hist,
            self.total_ms + other.total_ms,
            max(self.max_ms, other.max_ms),
            min(firsts) if firsts else None,
            max(lasts) if lasts else None,
        )

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "failures": self.failures,
            "rps": round(self.rps, 1),
            "p50_ms": self.p50,
            "p95_ms": self.p95,
            "p99_ms": self.p99,
        }


@dataclass
class LoadRun:
    """The outcome of one locust run."""

    users: int
    run_time_s: float
    endpoints: list[Endpoint]
    samples: list[dict[str, Any]]  # the live progress, one per interval
    locust_cpu: float  # share of one core locust used while load ran
    exit_code: int
    log_tail: str
    attempts: int = 1
    log_path: Path | None = None  # locust's whole output

    def log(self) -> str:
        """Locust's whole output (warnings, tracebacks from the locustfile, the summary)."""
        if self.log_path is None:
            return self.log_tail
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return self.log_tail

    @property
    def total(self) -> Endpoint:
        agg = Endpoint("", "Aggregated")
        for e in self.endpoints:
            agg = agg.merged(e)
        return agg

    def endpoint(self, name: str, method: str | None = None) -> Endpoint:
        """The row named ``name`` (all methods merged unless ``method`` is given); an
        empty row if locust never saw it."""
        found = Endpoint(method or "", name)
        for e in self.endpoints:
            if e.name == name and (method is None or e.method == method):
                found = found.merged(e)
        return found

    @property
    def names(self) -> list[str]:
        return sorted({e.name for e in self.endpoints})

    @property
    def pauses(self) -> tuple[int, float]:
        """How many pauses the users took between two tasks, and the seconds their
        wait_time asked for in all (never the service's response time, nor a busy
        machine's delays), as far as the last live sample saw (``_locust_plugin``)."""
        last = next((s for s in reversed(self.samples) if "pauses" in s), {})
        return int(last.get("pauses", 0)), float(last.get("pause_s", 0.0))

    @property
    def mean_pause_s(self) -> float | None:
        """The users' mean pause between two tasks (seconds); None if none was seen."""
        n, seconds = self.pauses
        return seconds / n if n else None

    def summary(self) -> dict[str, Any]:
        return {"users": self.users, **self.total.summary(),
                "locust_cpu": round(self.locust_cpu, 2)}  # fmt: skip


def throughput_ratio(low: LoadRun, high: LoadRun, name: str | None = None) -> float:
    """How many times more requests per second ``high`` got than ``low`` (e.g. 20 users
    versus 1 user, measured in the same check run)."""
    a = low.endpoint(name) if name else low.total
    b = high.endpoint(name) if name else high.total
    return b.rps / a.rps if a.rps > 0 else 0.0


def p95_ratio(
    loaded: LoadRun, baseline: LoadRun, name: str | None = None, *, baseline_q: float = 0.95
) -> float:
    """p95 under load over the single-user p95 (same journey, same check run). With
    ``baseline_q=0.5``, over the single-user median: steadier when the baseline run is
    short (the p95 of 30 requests is the second slowest, at the mercy of one hiccup)."""
    a = baseline.endpoint(name) if name else baseline.total
    b = loaded.endpoint(name) if name else loaded.total
    return b.p95 / max(a.percentile(baseline_q), 1)


def _endpoints(path: Path) -> list[Endpoint]:
    rows = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for r in rows:
        out.append(
            Endpoint(
                method=r.get("method") or "",
                name=r.get("name") or "",
                requests=int(r.get("num_requests") or 0),
                failures=int(r.get("num_failures") or 0),
                histogram={int(k): int(v) for k, v in (r.get("response_times") or {}).items()},
                total_ms=float(r.get("total_response_time") or 0),
                max_ms=float(r.get("max_response_time") or 0),
                first=r.get("start_time"),
                last=r.get("last_request_timestamp"),
            )
        )
    return out


def _locust_env(extra: dict[str, str] | None, home: Path, progress: Path) -> dict[str, str]:
    # No LOCUST_* settings and no ~/.locust.conf of the user's may change our runs; the
    # working folder is empty, so no locust.conf or pyproject.toml is found there either.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCUST_", "LAB_"))}
    env.update(
        HOME=str(home),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        LAB_LOCUST_PROGRESS=str(progress),
        **(extra or {}),
    )
    return env


def _cpu_seconds(pid: int) -> float | None:
    """CPU seconds of the process and what runs under it (locust under a sandbox's
    unshare and setpriv is a child, not the process we started)."""
    import psutil

    try:
        root = psutil.Process(pid)
        total = 0.0
        for proc in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess, psutil.ZombieProcess):
                t = proc.cpu_times()
                total += t.user + t.system
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None
    return total


def run_locust(
    locustfile: Path | Sequence[Path],
    *,
    host: str,
    users: int,
    run_time_s: int,
    workdir: Path,
    spawn_rate: float | None = None,
    env: dict[str, str] | None = None,
    on_progress: Progress | None = None,
    retries: int = 1,
    max_cpu: float = MAX_LOCUST_CPU,
    prepared: Prepared | None = None,
    confine: Confine | None = None,
) -> LoadRun:
    """Run locust headless against ``host`` and return its statistics.

    ``locustfile``: the check's own file(s) or the learner's. ``env`` reaches the
    locustfile (os.environ). ``on_progress`` is called with each live sample (users,
    rps, p50_ms, p95_ms, failures...). ``confine``: how to start learner code (a
    locustfile of the learner's runs in the run's sandbox; ``workdir`` must then be one
    it can write). ``prepared``: the same run started ahead by
    :func:`prepare_locust`, whose first attempt then starts at once. Raises
    :class:`LocustCouldNotRun` when locust produced no statistics and
    :class:`LoadInvalid` when locust saturated its CPU in every attempt (``1 + retries``).
    """
    if int(run_time_s) != run_time_s or run_time_s < 1:
        raise ValueError("locust's --run-time takes whole seconds")
    files = [Path(locustfile)] if isinstance(locustfile, (str, Path)) else list(locustfile)
    last: LoadRun | None = None
    for attempt in range(1, retries + 2):
        started = prepared.go() if prepared is not None and attempt == 1 else None
        last = _run_once(files, host=host, users=users, run_time_s=run_time_s,
                         workdir=workdir / f"attempt-{attempt}", spawn_rate=spawn_rate,
                         env=env, on_progress=on_progress, max_cpu=max_cpu,
                         started=started, confine=confine)  # fmt: skip
        last.attempts = attempt
        if not _saturated(last, max_cpu):
            return last
    assert last is not None
    raise LoadInvalid(
        f"Locust itself used {last.locust_cpu:.0%} of a CPU core in each of {retries + 1} "
        "attempts, so its numbers say more about this machine than about your service. "
        "Close other busy programs and run the check again.",
        last.log_tail,
    )


def _saturated(run: LoadRun, max_cpu: float) -> bool:
    return run.locust_cpu > max_cpu or LOCUST_CPU_WARNING in run.log_tail


@dataclass
class _Started:
    proc: Any  # subprocess.Popen
    workdir: Path
    progress_path: Path
    stats_prefix: Path
    log_path: Path


def _start(files: list[Path], *, host, users, run_time_s, workdir, spawn_rate, env,
           go: Path | None = None, confine: Confine | None = None) -> _Started:  # fmt: skip
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    if confine is not None:  # the learner's uid writes its statistics here
        owner = workdir.parent.stat()
        os.chown(workdir, owner.st_uid, owner.st_gid)
    progress_path, stats_prefix = workdir / "progress.jsonl", workdir / "stats"
    log_path = workdir / "locust.log"
    rate = spawn_rate or max(users, 1) * 10  # everyone at once: phases are short
    args = [
        sys.executable, "-m", "locust",
        "-f", ",".join(str(f.resolve()) for f in [*files, PLUGIN]),
        "--headless", "--only-summary", "--host", host,
        "-u", str(users), "-r", str(rate), "-t", f"{int(run_time_s)}s",
        "--json-file", str(stats_prefix), "--loglevel", "WARNING",
    ]  # fmt: skip
    run_env = _locust_env(env, workdir, progress_path)
    if go is not None:
        run_env["LAB_LOCUST_GO"] = str(go)
    proc = _spawn(args, cwd=workdir, env=run_env, log_path=log_path, confine=confine)
    return _Started(proc, workdir, progress_path, stats_prefix, log_path)


class Prepared:
    """A locust run started ahead and held before its first user (``_locust_plugin``
    waits for the go file while locust loads): locust's start-up, about a second of
    imports, is paid while nothing is measured, not between two phases."""

    def __init__(self, started: _Started, go: Path) -> None:
        self._started, self._go, self.used = started, go, False

    def ready(self) -> bool:
        """Whether locust has loaded and waits (or has already exited: an error shows
        when the run is made)."""
        return self._go.with_name("go.ready").exists() or self._started.proc.poll() is not None

    def go(self) -> _Started:
        self.used = True
        self._go.touch()
        return self._started

    def cancel(self) -> None:
        if not self.used:
            _kill(self._started.proc)


def prepare_locust(
    locustfile: Path | Sequence[Path],
    *,
    host: str,
    users: int,
    run_time_s: int,
    workdir: Path,
    spawn_rate: float | None = None,
    env: dict[str, str] | None = None,
    confine: Confine | None = None,
) -> Prepared:
    """Start locust for the run :func:`run_locust` will make with the same arguments
    (and ``prepared=`` this), held until then. ``cancel()`` one that is never run."""
    files = [Path(locustfile)] if isinstance(locustfile, (str, Path)) else list(locustfile)
    workdir.mkdir(parents=True, exist_ok=True)
    go = workdir / "go"
    started = _start(files, host=host, users=users, run_time_s=run_time_s,
                     workdir=workdir / "attempt-1", spawn_rate=spawn_rate, env=env,
                     go=go, confine=confine)  # fmt: skip
    return Prepared(started, go)


def _run_once(
    files: list[Path],
    *,
    host,
    users,
    run_time_s,
    workdir,
    spawn_rate,
    env,
    on_progress,
    max_cpu,
    started: _Started | None = None,
    confine: Confine | None = None,
) -> LoadRun:
    if started is None:
        started = _start(files, host=host, users=users, run_time_s=run_time_s, workdir=workdir,
                         spawn_rate=spawn_rate, env=env, confine=confine)  # fmt: skip
    proc, progress_path = started.proc, started.progress_path
    stats_prefix, log_path = started.stats_prefix, started.log_path
    samples: list[dict[str, Any]] = []
    cpu_marks: list[tuple[float, float]] = []  # (wall, cpu seconds) while load runs
    offset = 0
    deadline = time.monotonic() + run_time_s + 20
    try:
        while True:
            alive = proc.poll() is None
            if progress_path.exists():
                with open(progress_path, encoding="utf-8") as f:
                    f.seek(offset)
                    chunk = f.read()
                complete, newline, _partial = chunk.rpartition("\n")
                offset += len(complete) + len(newline)  # a partial line is read next time
                for line in complete.splitlines():
                    with contextlib.suppress(ValueError):
                        sample = json.loads(line)
                        samples.append(sample)
                        if on_progress is not None:
                            on_progress(sample)
                if samples and alive:
                    cpu = _cpu_seconds(proc.pid)
                    if cpu is not None:
                        cpu_marks.append((time.monotonic(), cpu))
            if not alive:
                break
            if time.monotonic() > deadline:
                raise LocustCouldNotRun(
                    f"Locust did not finish within {run_time_s + 20:.0f} s of a "
                    f"{run_time_s:g} s run, so it was stopped.",
                    tail(log_path, 20),
                )
            time.sleep(0.2)
    finally:
        _kill(proc)
    code = proc.returncode
    stats_file = Path(f"{stats_prefix}.json")
    log = tail(log_path, 40)
    if not stats_file.exists():
        last = next((ln for ln in reversed(log.splitlines()) if ln.strip()), "")
        raise LocustCouldNotRun(
            f"Locust exited (code {code}) without statistics. Its last words: {last}", log
        )
    # Locust's CPU while load ran (its start-up imports excluded): psutil's readings
    # taken from outside; for a run too short for two of them, the plugin's own.
    cpu_share = 0.0
    if len(cpu_marks) >= 2:
        (w0, c0), (w1, c1) = cpu_marks[0], cpu_marks[-1]
        cpu_share = (c1 - c0) / max(w1 - w0, 1e-3)
    elif len(samples) >= 2:
        a, b = samples[0], samples[-1]
        cpu_share = (b["cpu_s"] - a["cpu_s"]) / max(b["t"] - a["t"], 1e-3)
    return LoadRun(
        users=users,
        run_time_s=run_time_s,
        endpoints=_endpoints(stats_file),
        samples=samples,
        locust_cpu=cpu_share,
        exit_code=code if code is not None else -1,
        log_tail=log,
        log_path=log_path,
    )


def describe(sample: dict[str, Any]) -> str:
    """A live sample as one short line: '20 users · 187 req/s · p95 112 ms'."""
    users = sample.get("users", 0)
    text = f"{users} user{'' if users == 1 else 's'} · {sample.get('rps', 0):.0f} req/s"
    if sample.get("requests"):
        text += f" · p95 {sample.get('p95_ms', 0)} ms"
    if sample.get("failures"):
        text += f" · {sample['failures']} failed"
    return text

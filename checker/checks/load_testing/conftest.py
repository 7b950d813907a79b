"""Fixtures of the load-testing checks: the load phases, each run once per check run.

A phase is one headless locust run of ``journey.py`` (see there). Phases run lazily,
when the first check that needs one asks, and are shared: the throughput and the
latency checks compare against the same single-user baseline. Live progress of each
phase reaches the learner's terminal through the plugin's ``progress``.
"""

from __future__ import annotations

import ast
import os
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from _helpers import RUN_S, RUN_USERS

from checker.observe.connections import ConnectionWatch
from checker.observe.load import LoadRun, Prepared, describe, prepare_locust, run_locust
from checker.pytest_plugin import progress
from checker.sandbox import ForChecks

JOURNEY = Path(__file__).with_name("journey.py")

#: What the load test's users say they are: real browsers, one drawn per run.
USER_AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64; rv:141.0) Gecko/20100101 Firefox/141.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/139.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.5 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) Version/18.5 Mobile/15E148 Safari/604.1",
]


@dataclass(frozen=True)
class Phase:
    label: str
    journey: str
    users: int
    seconds: int
    think_s: float = 0.0


PHASES = {
    # Connections: every request uses the database; PostgreSQL is watched meanwhile.
    # Five users, so that a pool of SQLAlchemy's default size (5) never needs to open
    # and close overflow connections: a pooled service opens at most five.
    # Two seconds: some 800 requests, where a service that connects per request opens
    # about as many connections and a pool at most 15.
    "db": Phase("connections", "db", users=5, seconds=2),
    # Throughput: the same journey with 1 user, then with 20, no pauses.
    "one": Phase("throughput", "shop", users=1, seconds=3),
    "twenty": Phase("throughput", "shop", users=20, seconds=3),
    # Latency: 50 users who pause a second between requests, as people do.
    "fifty": Phase("latency", "shop", users=50, seconds=4, think_s=1.0),
}


#: The phases each check needs: what a run of some checks (a mutant's) prepares.
NEEDS = {
    "test_connections_pooled": ("db",),
    "test_throughput_scales": ("one", "twenty"),
    "test_stable_under_load": ("one", "fifty"),
}


class Load:
    def __init__(self, base_url: str, workdir: Path, phases: tuple[str, ...] = (),
                 learner: Path | None = None) -> None:  # fmt: skip
        self.base_url, self.workdir = base_url, workdir
        self.phases = phases  # the phases this run's checks will ask for, in order
        self.learner = learner  # the learner's locustfile, when its check will run it
        self.prepared: dict[str, Prepared] = {}
        self.runs: dict[str, LoadRun] = {}
        self.connections: ConnectionWatch | None = None
        self.warm = False
        seed = os.environ.get("LAB_SEED") or "0"
        self.user_agent = random.Random(f"{seed}:user-agent").choice(USER_AGENTS)

    def _warm_up(self) -> None:
        # The first requests of a fresh process pay for imports and the first
        # connection: keep them out of the measurements.
        headers = {"User-Agent": self.user_agent}
        with httpx.Client(base_url=self.base_url, timeout=10, headers=headers) as client:
            for n in (1, 2, 3):
                client.get(f"/books/{n}")
                client.get(f"/stock/978000000000{n}")
        self.warm = True

    def _args(self, key: str) -> dict:
        phase = PHASES[key]
        return dict(
            host=self.base_url, users=phase.users, run_time_s=phase.seconds,
            workdir=self.workdir / key,
            env={"LAB_JOURNEY": phase.journey, "LAB_THINK_S": str(phase.think_s),
                 "LAB_USER_AGENT": self.user_agent},
        )  # fmt: skip

    def learner_args(self) -> dict:
        """How the learner's locustfile is run: learner code, so in the run's sandbox
        (as the service), from the folder the service runs from (its imports of its
        neighbours work)."""
        box = ForChecks.from_env()
        code = Path(os.environ.get("LAB_LEARNER_CODE") or os.environ["LAB_WORKSPACE"])
        return dict(
            locustfile=code / "locustfile.py", host=self.base_url, users=RUN_USERS,
            run_time_s=RUN_S, confine=box.wrap if box else None,
            workdir=box.workdir("locust") if box else self.workdir / "learner",
        )  # fmt: skip

    def _prepare(self) -> None:
        """Start locust for every phase this run will need, held before its first user:
        each one's second of start-up overlaps the others' and the warm-up, instead of
        falling between two phases. Nothing is measured meanwhile. The learner's
        locustfile too, if it parses (its check reads it first, and may never run it)."""
        for key in self.phases:
            if key not in self.prepared and key not in self.runs:
                self.prepared[key] = prepare_locust(JOURNEY, **self._args(key))
        if self.learner is not None and "learner" not in self.prepared:
            try:
                ast.parse(self.learner.read_bytes())
            except (OSError, SyntaxError, ValueError):
                pass
            else:
                self.prepared["learner"] = prepare_locust(**self.learner_args())
        # Measure nothing while another locust is still loading (a core's worth of work).
        deadline = time.monotonic() + 30
        while not all(p.ready() for p in self.prepared.values()):
            if time.monotonic() > deadline:
                break  # each run then waits for its own locust, as without preparing
            time.sleep(0.02)

    def run(self, key: str, *, watch: ConnectionWatch | None = None) -> LoadRun:
        if key in self.runs:
            return self.runs[key]
        if not self.warm:
            self._prepare()
            self._warm_up()
        phase = PHASES[key]
        progress(f"load test, {phase.label}: starting locust")

        def show(sample: dict) -> None:
            progress(f"load test, {phase.label}: {describe(sample)}")

        run = run_locust(JOURNEY, on_progress=show, prepared=self.prepared.pop(key, None),
                         **self._args(key))  # fmt: skip
        self.runs[key] = run
        return run

    def close(self) -> None:
        for prepared in self.prepared.values():
            prepared.cancel()
        self.prepared.clear()


@pytest.fixture(scope="session")
def load(base_url: str, request: pytest.FixtureRequest):
    wanted = {item.originalname for item in request.session.items}
    phases = tuple(dict.fromkeys(k for name, keys in NEEDS.items() if name in wanted
                                 for k in keys))  # fmt: skip
    learner = Path(os.environ["LAB_WORKSPACE"]) / "locustfile.py"
    with tempfile.TemporaryDirectory(prefix="lab-load-") as tmp:
        load = Load(base_url, Path(tmp), phases,
                    learner if "test_locustfile_realistic" in wanted else None)  # fmt: skip
        try:
            yield load
        finally:
            load.close()


@pytest.fixture(scope="session")
def db_name() -> str:
    from psycopg.conninfo import conninfo_to_dict

    return str(conninfo_to_dict(os.environ["LAB_RUN_DATABASE_URL"])["dbname"])


@pytest.fixture(scope="session")
def admin_url() -> str:
    return os.environ["LAB_ADMIN_DATABASE_URL"]

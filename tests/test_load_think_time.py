"""Lab 08's reading of a learner's locustfile (checker/checks/load_testing): the think
time its wait_time gives, judged from the file when locust's helpers get numbers. The
measured backstop, for a wait_time computed as users run, is proven by the lab's
self-verification (tests/test_selfcheck.py, scenario computed-think-time-in-milliseconds)."""

from __future__ import annotations

import sys

import pytest

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "checker" / "checks" / "load_testing"))

from test_locustfile import MIN_PAUSE_S, inspect  # noqa: E402

# Their plain names stay this module's: no other test imports another lab's `_helpers`.
sys.path.remove(str(ROOT / "checker" / "checks" / "load_testing"))
for _name in ("_helpers", "test_locustfile"):
    sys.modules.pop(_name)

HEAD = """
import random
from locust import HttpUser, TaskSet, between, constant, constant_pacing, constant_throughput, task
"""


def user(wait: str, before: str = "") -> str:
    return f"""{HEAD}
{before}

class Shopper(HttpUser):
    {wait}

    @task(3)
    def browse(self):
        self.client.get("/books")
"""


def pauses(source: str) -> list[float | None]:
    return [w.pause_s for w in inspect(source).waits]


@pytest.mark.parametrize(
    ("wait", "pause"),
    [
        ("wait_time = between(0.5, 2)", 1.25),  # the reference
        ("wait_time = between(1, 3)", 2.0),  # the hint
        ("wait_time = between(0.3, 1.5)", 0.9),
        ("wait_time = between(0.05, 0.1)", 0.075),  # milliseconds written as seconds
        ("wait_time = constant(2)", 2.0),
        ("wait_time = constant(0)", 0.0),
        ("wait_time = constant_pacing(1.5)", 1.5),
        ("wait_time = constant_throughput(1)", 1.0),
        ("wait_time = constant_throughput(20)", 0.05),
        ("wait_time = between(min_wait=1, max_wait=3)", 2.0),
        ("wait_time = between(1, max_wait=2)", 1.5),
        ("wait_time = between(100 / 1000, 2 * 0.1)", 0.15),
        ("wait_time = constant(-(-1))", 1.0),
    ],
)
def test_locusts_helpers_give_their_mean_pause(wait, pause):
    assert pauses(user(wait)) == [pytest.approx(pause)]


def test_module_and_class_constants_and_arithmetic_are_followed():
    before = "MIN_WAIT = 0.05\nMAX_WAIT = MIN_WAIT * 2\nRATE: float = 4"
    assert pauses(user("wait_time = between(MIN_WAIT, MAX_WAIT)", before)) == [pytest.approx(0.075)]
    assert pauses(user("wait_time = constant_throughput(RATE)", before)) == [0.25]
    in_class = "PAUSE_MS = 50\n    wait_time = constant(PAUSE_MS / 1000)"
    assert pauses(user(in_class)) == [0.05]


@pytest.mark.parametrize(
    ("wait", "before"),
    [
        ("def wait_time(self):\n        return 0.05", ""),
        ("wait_time = lambda self: 0.05", ""),
        ("wait_time = between(MIN_WAIT, 3)", "MIN_WAIT = 1\nMIN_WAIT = 0.01"),  # rebound
        ("wait_time = between(MIN_WAIT, 3)", "def f():\n    global MIN_WAIT\nMIN_WAIT = 1"),
        ("wait_time = between(MIN_WAIT, 3)", "import os\nMIN_WAIT = float(os.environ['W'])"),
        ("wait_time = between(random.random(), 3)", ""),
        ("wait_time = constant_throughput(0)", ""),
        ("wait_time = between(*(1, 3))", ""),
    ],
)
def test_a_wait_time_computed_at_run_time_is_left_to_the_measured_run(wait, before):
    found = inspect(user(wait, before))
    assert found.wait_time
    assert [w.pause_s for w in found.waits] == [None]
    assert not found.short_waits and found.computed_waits


def test_each_class_is_judged_by_the_wait_time_it_really_has():
    source = f"""{HEAD}
class Base(HttpUser):
    abstract = True
    wait_time = constant(0.01)

class Shopper(Base):
    wait_time = between(1, 3)

    @task(3)
    def browse(self):
        self.client.get("/books")

class Inherits(Shopper):
    pass

class Steps(TaskSet):
    wait_time = constant_pacing(0.1)

class Walker(HttpUser):
    tasks = {{Steps: 1}}
"""
    found = inspect(source)
    got = {w.owner: w.pause_s for w in found.waits}
    # Base's own is overridden by Shopper's (Inherits gets Shopper's, judged once); the
    # abstract Base is a user class locust never runs, but its pause is judged too: it
    # is in the file, and a learner who writes it meant it.
    assert got == {"Base": 0.01, "Shopper": 2.0, "Steps": 0.1}
    assert {w.owner for w in found.short_waits} == {"Base", "Steps"}


def test_the_message_speaks_of_the_learners_own_wait_time():
    (wait,) = inspect(user("wait_time = between(0.05, 0.1)")).short_waits
    assert wait.described() == (
        "your users pause 0.075 s on average between pages "
        "(Shopper: wait_time = between(0.05, 0.1))"
    )
    (wait,) = inspect(user("wait_time = constant_throughput(20)")).short_waits
    assert "runs 20 tasks per second" in wait.described()
    assert "0.05 s between pages" in wait.described()


def test_the_threshold_sits_between_the_cheat_and_every_human_pause():
    human = [1.25, 2.0, 0.9, 1.0]  # reference, hint, between(0.3, 1.5), throughput(1)
    assert all(p / MIN_PAUSE_S >= 3.5 for p in human)
    assert MIN_PAUSE_S / 0.075 >= 3  # between(0.05, 0.1)


def test_a_user_class_without_a_wait_time_beside_one_that_has_it_never_pauses():
    source = (
        user("wait_time = between(1, 3)")
        + """
class Hammer(HttpUser):
    @task
    def again(self):
        self.client.get("/books")

class Steps(TaskSet):
    @task
    def step(self):
        self.client.get("/books")

class Walker(HttpUser):  # its TaskSet has no wait_time either: locust's 0 s
    tasks = [Steps]

class Paced(TaskSet):
    wait_time = constant(1)

class Reader(HttpUser):  # pauses by its TaskSet's wait_time
    tasks = [Paced]

class Base(HttpUser):
    abstract = True
"""
    )
    found = inspect(source)
    assert found.pauseless == ["Hammer", "Walker"]

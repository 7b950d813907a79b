"""A slow provider, and a provider that says when to come back."""

import statistics
import time

import httpx
from _helpers import (
    ATTEMPT_S,
    BOOKS,
    MAX_IN_FLIGHT,
    Background,
    healthy,
    quote_calls,
    retry_after,
    said,
    shown,
)

from checker.verdict import fail

STORM = 50
#: Shipping holds each call until GET /books was timed, then answers them all: slow,
#: yet within the 0.5 s attempt timeout (a service that lets calls pile up on its
#: threads keeps them until its own timeouts end them).
GATE_S = 1.0
#: How long the check waits for 10 calls to be in flight, and the others answered,
#: before it times GET /books: well within the attempt timeout, so that no call was
#: given up (and retried) while the provider still holds it, which it would count twice.
FILL_S = ATTEMPT_S / 2
#: GET /books's own latency may grow up to 3x during the storm; below this floor a
#: latency is scheduling noise, not a queue. 3x the floor (300 ms) lies between a valid
#: service on a busy machine (under 250 ms at load 8: 50 clients and 40 refusals share
#: the CPU with it) and one whose requests queue for a slot (over 400 ms even on a quiet
#: machine: GET /books waits for threads that wait for the held calls).
FLOOR_S = 0.1
#: A storm whose GET /books was slow is played once more, and judged by the better one:
#: on a busy machine one stall of a few hundred ms can hit any single timing, while a
#: service whose threads are starved is slow in every round (its GET /books waits for
#: the held calls: most of GATE_S).
ROUNDS = 2


def _books_latency(base_url: str, rounds: int) -> float:
    """GET /books's latency as it is timed during the storm (3 at once, each on a fresh
    connection), the median of ``rounds`` such rounds: before and during then carry the
    same costs, which a busy machine inflates alike."""
    took = []
    for _ in range(rounds):
        for r, t in Background([lambda c: c.get("/books")] * 3, base_url).join():
            if not isinstance(r, httpx.Response):
                fail("books-error", f"GET /books got no answer ({r}); expected 200.")
            if r.status_code != 200:
                fail("books-error", f"GET /books answered {said(r)}; expected 200.")
            took.append(t)
    return statistics.median(took)


def _storm(http, base_url, shipping, rng) -> tuple[float, float | None, list, int]:
    """One storm: (GET /books before, during (None: not timed, too many calls in flight),
    the storm's results, shipping's peak)."""
    healthy(http, rng)
    shipping.reset()  # the good call and an earlier round are not part of the peak
    before = _books_latency(base_url, 2)
    shipping.slow_next(STORM, delay=GATE_S)  # slow, never failing: held until released
    books = [rng.choice(BOOKS) for _ in range(STORM)]
    storm = Background([lambda c, b=b: c.get(f"/books/{b}/delivery") for b in books], base_url)
    # GET /books is timed while 10 calls are held, once the requests over the limit were
    # answered: a service that parks them on its threads has answered none, and GET
    # /books queues behind them; one that refused them is not timed while it is busy
    # writing 40 answers (CPU, not starved threads).
    # More than 10 calls in flight at once: the round fails on its counts, whatever GET
    # /books does; the check lets the storm go at once.
    deadline = time.monotonic() + FILL_S
    while time.monotonic() < deadline:
        stats = shipping.stats()
        if stats["max_in_flight"] > MAX_IN_FLIGHT:
            shipping.recover()
            return before, None, storm.join(), shipping.max_in_flight()
        if stats["in_flight"] >= MAX_IN_FLIGHT and len(storm.done) >= STORM - MAX_IN_FLIGHT:
            break
        time.sleep(0.01)
    timing = Background([lambda c: c.get("/books")] * 3, base_url)
    while len(timing.done) < 3 and timing.running():
        if shipping.stats()["max_in_flight"] > MAX_IN_FLIGHT:  # late, on a busy machine
            shipping.recover()
            timing.join()
            return before, None, storm.join(), shipping.max_in_flight()
        time.sleep(0.05)
    during = [took for _, took in timing.join()]
    shipping.recover()  # the calls in flight answer 200 now; later calls are not held
    results = storm.join()
    return before, statistics.median(during), results, shipping.max_in_flight()


def test_bulkhead_limits_slow_provider(http, base_url, sinks, rng, measure):
    shipping = sinks["shipping"]
    slow: list[tuple[float, float]] = []
    for round_ in range(ROUNDS):
        before, during_s, results, peak = _storm(http, base_url, shipping, rng)
        measure(f"books_before_ms_{round_ + 1}", round(before * 1000, 1))
        measure("shipping_max_in_flight", peak)
        _judge_counts(results, peak)
        assert during_s is not None, "not timed only when too many calls were in flight"
        measure(f"books_during_ms_{round_ + 1}", round(during_s * 1000, 1))
        if during_s <= 3 * max(before, FLOOR_S):
            return
        slow.append((before, during_s))
    before, during_s = slow[-1]
    fail(
        "books-starved",
        f"GET /books took {before * 1000:.0f} ms before the storm and "
        f"{during_s * 1000:.0f} ms while {STORM} requests waited on the slow shipping "
        f"provider; expected within 3x ({3 * max(before, FLOOR_S) * 1000:.0f} ms): GET /books "
        f"never calls shipping. (Each of {ROUNDS} storms: "
        + ", ".join(f"{b * 1000:.0f} -> {d * 1000:.0f} ms" for b, d in slow)
        + ".)",
    )


def _judge_counts(results, peak: int) -> None:
    """What one storm's counts say: deterministic, judged on every round."""
    if peak > MAX_IN_FLIGHT:
        fail(
            "too-many-in-flight",
            f"{STORM} requests at once on a slow shipping provider: "
            f"it had {peak} calls in flight at once; expected at most {MAX_IN_FLIGHT}.",
        )
    answers = [r for r, _ in results if isinstance(r, httpx.Response)]
    odd = [r for r in answers
           if r.status_code != 200 and not (r.status_code == 503 and retry_after(r))]  # fmt: skip
    if len(answers) < STORM or odd:
        example = shown(odd[0]) if odd else "no answer"
        fail(
            "wrong-status",
            f"{STORM} requests at once on a slow shipping provider: {len(answers)} answered, "
            f"{len(odd)} with something other than 200 or 503 + Retry-After (e.g. "
            f"{said(odd[0]) if odd else ''} {example}); expected the calls within the limit "
            "to answer 200 and the rest 503 with Retry-After, at once.",
        )
    rejected = sum(r.status_code == 503 for r in answers)
    if rejected < MAX_IN_FLIGHT:
        fail(
            "queued",
            f"{STORM} requests at once on a slow shipping provider: {STORM - rejected} answered "
            f"200, {rejected} were refused; expected about {STORM - MAX_IN_FLIGHT} refused at "
            "once with 503 + Retry-After, not queued for a slot.",
        )


def test_retry_after_honoured(http, base_url, sinks, rng, measure):
    shipping, payments = sinks["shipping"], sinks["payments"]
    t0 = time.perf_counter()
    healthy(http, rng)
    measure("healthy_s", round(time.perf_counter() - t0, 2))
    book, other = rng.sample(BOOKS, 2)
    status = rng.choice([429, 503])
    for sink in (shipping, payments):
        sink.fail_next(1, status=status, retry_after=1)
    results = Background(
        [lambda c: c.get(f"/books/{book}/delivery"),
         lambda c: c.post("/orders", json={"book_id": other, "quantity": 1})],
        base_url,
    ).join()  # fmt: skip
    paths = {  # this check's checkout is the only one: every charge call is its own
        f"GET /books/{book}/delivery": (results[0][0], quote_calls(shipping, book)),
        "POST /orders": (results[1][0], payments.calls()),
    }
    for what, (r, calls) in paths.items():
        if not isinstance(r, httpx.Response):
            fail("no-answer", f"{what} gave no answer ({type(r).__name__}).")
        if len(calls) >= 2:
            waited = calls[1]["at"] - calls[0]["answered_at"]
            if waited < 0.95:
                fail(
                    "sooner",
                    f"The provider answered {status} with Retry-After: 1; {what} called it again "
                    f"{waited:.2f} s later; expected no sooner than 1 s.",
                )
        elif not (r.status_code == 503 and retry_after(r)):
            fail(
                "not-passed-on",
                f"The provider answered {status} with Retry-After: 1; {what} did not try again "
                f"and answered {said(r)} {shown(r)}; expected 503 with a Retry-After header, so "
                "that your client knows when to come back.",
            )

"""A shipping provider that is down: the breaker, and the page without its quote.

These run last: page_degrades leaves the breaker open (every check starts by waiting
for a good call, so order only saves time)."""

import time

import httpx
from _helpers import (
    BOOKS,
    BREAKER_FAILURES,
    Background,
    healthy,
    retry_after,
    said,
    shown,
)

from checker.verdict import fail

TRIALS = 10


def _open_breaker(http, shipping, rng, path: str) -> tuple[int, httpx.Response]:
    """Requests one after another, each on another book, until one is answered without
    a call to shipping: (the calls shipping got, that answer)."""
    for _ in range(BREAKER_FAILURES + 3):
        before = len(shipping.calls())
        r = http.get(path.format(book=rng.choice(BOOKS)))
        if len(shipping.calls()) == before:
            return before, r
    return len(shipping.calls()), r


def test_breaker_opens(http, base_url, sinks, rng, measure):
    shipping = sinks["shipping"]
    healthy(http, rng)
    start = len(shipping.calls())
    status = rng.choice([500, 502, 503, 504])
    shipping.fail_always(status=status)
    made, r = _open_breaker(http, shipping, rng, "/books/{book}/delivery")
    made -= start
    if made > BREAKER_FAILURES:
        fail(
            "never-opens",
            f"The shipping provider answered {status} to every call; it was called {made} "
            f"times, request after request, and still called; expected no call after "
            f"{BREAKER_FAILURES} failed ones (the breaker opens) until the open time is up.",
        )
    if made < BREAKER_FAILURES:
        fail(
            "opens-early",
            f"The shipping provider answered {status} to every call; after {made} failed calls "
            f"requests stopped reaching it; expected the breaker to open after {BREAKER_FAILURES}.",
        )
    opened = shipping.calls()[-1]["answered_at"]
    # The next 20 requests, on other books and on the page too: no call, 503 + Retry-After.
    books = [rng.choice(BOOKS) for _ in range(20)]
    results = Background(
        [lambda c, b=b: c.get(f"/books/{b}/delivery") for b in books[:16]]
        + [lambda c, b=b: c.get(f"/books/{b}") for b in books[16:]],
        base_url,
    ).join()  # fmt: skip
    # A call after the open time is a legitimate trial (on a busy machine the 20 may
    # take that long); one before it is not.
    open_until = opened + (retry_after(r) or 1) - 0.05 if isinstance(r, httpx.Response) else opened
    reached = sum(c["at"] < open_until for c in shipping.calls()[start + made :])
    if reached:
        fail(
            "never-opens",
            f"After {made} failed calls, 20 more requests (other books, the book page too) "
            f"reached the shipping provider {reached} times; expected none while the breaker "
            "is open: one breaker for the provider, not one per book or per endpoint.",
        )
    deliveries = [r for r, _ in results[:16]] + [r]
    waits = [retry_after(x) if isinstance(x, httpx.Response) else None for x in deliveries]
    bad = [x for x, w in zip(deliveries, waits, strict=True)
           if not isinstance(x, httpx.Response) or x.status_code != 503 or not w]  # fmt: skip
    if bad:
        x = bad[0]
        fail(
            "no-retry-after",
            f"With the breaker open, GET /books/{{id}}/delivery answered "
            f"{said(x) + ' ' + shown(x) if isinstance(x, httpx.Response) else type(x).__name__}"
            f" (Retry-After: {x.headers.get('retry-after') if isinstance(x, httpx.Response) else None}); "
            "expected 503 with Retry-After in seconds.",
        )
    wait = max(waits)
    measure("retry_after_s", wait)
    # When Retry-After says: one trial, however many requests arrive at once.
    # A late trial that failed opened it again: count from the last failure.
    opened = max(c["answered_at"] for c in shipping.calls() if c["outcome"] == "error")
    shipping.recover()
    shipping.slow_next(1, delay=5)  # the trial is held while the others arrive
    time.sleep(max(0.0, opened + wait - time.time() + 0.05))
    for attempt in range(2):
        before = len(shipping.calls())
        trial_books = [rng.choice(BOOKS) for _ in range(TRIALS)]
        storm = Background([lambda c, b=b: c.get(f"/books/{b}/delivery") for b in trial_books],
                           base_url)  # fmt: skip
        deadline = time.monotonic() + 1.0
        while len(shipping.calls()) == before and time.monotonic() < deadline:
            time.sleep(0.02)
        # The other requests arrive meanwhile: refused (answered, at once), or waiting.
        wait_until = time.monotonic() + 0.2
        while len(storm.done) < TRIALS - 1 and time.monotonic() < wait_until:
            time.sleep(0.01)
        trials = len(shipping.calls()) - before
        shipping.release()
        results = storm.join()
        if trials or attempt:
            break
        time.sleep(0.3)  # still open: Retry-After rounded, a little more
    measure("trial_calls", trials)
    if trials == 0:
        fail(
            "stays-open",
            f"{wait + 0.35:.2f} s after the breaker opened (Retry-After: {wait}), {TRIALS} "
            "requests at once made no call at all; expected one trial call when the open time "
            "is up.",
        )
    if trials > 1:
        fail(
            "many-trials",
            f"When the open time was up, {TRIALS} requests arrived at once and {trials} calls "
            "reached the shipping provider, which may still be down; expected exactly one "
            "trial call (half-open) until it succeeds.",
        )
    ok = [x for x, _ in results if isinstance(x, httpx.Response) and x.status_code == 200]
    if not ok:
        fail(
            "stays-open",
            f"The trial call succeeded, but none of the {TRIALS} requests answered 200; expected "
            "the one that made the trial call to get its quote.",
        )
    for _ in range(2):
        before = len(shipping.calls())
        r = http.get(f"/books/{rng.choice(BOOKS)}/delivery")
        if r.status_code != 200 or len(shipping.calls()) == before:
            fail(
                "stays-open",
                f"After a successful trial call, GET /books/{{id}}/delivery answered {said(r)} "
                f"{shown(r)}; expected 200 from the provider: the breaker closes.",
            )


def test_page_degrades(http, sinks, rng):
    shipping = sinks["shipping"]
    healthy(http, rng)
    book = rng.choice(BOOKS)
    r = http.get(f"/books/{book}")
    if r.status_code != 200:
        fail("page-error", f"GET /books/{book} answered {said(r)}; expected 200.")
    expected = {k: v for k, v in r.json().items() if k != "delivery"}

    def check(how: str) -> None:
        r = http.get(f"/books/{book}")
        if r.status_code != 200:
            fail(
                "page-error",
                f"With the shipping provider {how}, GET /books/{book} answered {said(r)} "
                f'{shown(r)}; expected 200 with the book and "delivery": null.',
            )
        got = r.json()
        rest = {k: v for k, v in got.items() if k != "delivery"}
        if "delivery" not in got or got["delivery"] is not None or rest != expected:
            fail(
                "wrong-page",
                f"With the shipping provider {how}, GET /books/{book} answered {shown(r)}; "
                f'expected the book as before ({expected.get("title")!r}) with "delivery": null.',
            )

    status = rng.choice([500, 502, 503, 504])
    shipping.fail_always(status=status)
    check(f"answering {status}")
    _open_breaker(http, shipping, rng, "/books/{book}")
    check("down and its breaker open")

"""/metrics as Prometheus reads it: every request counted once, under its method, route
template and status; and a bounded number of series, whatever paths are called."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from _helpers import (
    BOOKS,
    card_number,
    deltas,
    duration_histogram,
    is_metrics_route,
    said,
    scrape,
    scrape_until,
    status_matches,
    token_of,
)

from checker.verdict import fail

UNKNOWN_PREFIXES = ("zq", "xv", "qj", "vk")  # no route of the shop starts like these


def unknown_path(rng) -> str:
    segments = [rng.choice(UNKNOWN_PREFIXES) + token_of(rng, rng.randint(3, 9))]
    segments += [token_of(rng, rng.randint(1, 12)) for _ in range(rng.randint(0, 2))]
    return "/" + "/".join(segments)


def test_metrics_count_requests(http, sinks, rng, shopper):
    payments = sinks["payments"]
    customer = shopper()
    histogram = duration_histogram(scrape(http))
    book, missing, unknown = rng.choice(BOOKS), rng.randint(1000, 99_999), unknown_path(rng)
    auth = customer.auth()

    def order_body(**extra):
        return {"book_id": rng.choice(BOOKS), "card_number": card_number(rng), **extra}

    phases = [  # (what, method, status, send one)
        (f"GET /books/{book}", "GET", 200, lambda: http.get(f"/books/{book}")),
        (f"GET /books/{missing}", "GET", 404, lambda: http.get(f"/books/{missing}")),
        (f"GET {unknown}", "GET", 404, lambda: http.get(unknown)),
        (
            "POST /orders",
            "POST",
            201,
            lambda: http.post("/orders", json=order_body(), headers=auth),
        ),
        (
            "POST /orders",
            "POST",
            422,
            lambda: http.post("/orders", json=order_body(quantity=0), headers=auth),
        ),
        (
            "POST /orders",
            "POST",
            500,
            lambda: http.post("/orders", json=order_body(), headers=auth),
        ),
    ]
    for what, method, status, send in phases:
        n = rng.randint(2, 5)
        if status == 500:
            payments.fail_always(status=503)
        before = histogram.counts(scrape(http))
        try:
            for _ in range(n):
                r = send()
                if r.status_code != status:
                    fail("unexpected-status", f"{what} answered {said(r)}; expected {status} here.")
        finally:
            if status == 500:
                payments.recover()

        def changes(exposition, before=before):
            return {k: v for k, v in deltas(before, histogram.counts(exposition)).items()
                    if not is_metrics_route(k[1])}  # fmt: skip

        changed = changes(scrape_until(http, lambda e, n=n: sum(changes(e).values()) >= n,
                                       histogram=histogram))  # fmt: skip
        shown_changes = (
            ", ".join(
                f"{{method={m!r}, route={r!r}, status={s!r}}} +{v:g}"
                for (m, r, s), v in changed.items()
            )
            or "nothing"
        )
        expected = f"{what} sent {n} times (answered {status})"
        if len(changed) != 1:
            fail("miscounted", f"{expected}: {histogram.name}_count changed by {shown_changes}; "
                 f"expected one series to rise by exactly {n}.")  # fmt: skip
        (m, _route, s), value = next(iter(changed.items()))
        if value != n or m != method or not status_matches(s, status):
            fail("miscounted", f"{expected}: {histogram.name}_count changed by {shown_changes}; "
                 f"expected +{n} under method {method!r}, status {status!r}.")  # fmt: skip


def test_no_label_explosion(http, rng):
    histogram = duration_histogram(scrape(http))
    existing, missing = rng.sample(BOOKS, 2), rng.randint(100_000, 999_999)
    # One of each kind first, so that the series they need exist.
    for path in (f"/books/{existing[0]}", f"/books/{missing}", unknown_path(rng)):
        http.get(path)
    scrape(http)
    before = scrape(http)
    ids = [rng.choice(BOOKS) for _ in range(20)] + rng.sample(range(21, 2_000_000), 30)
    rng.shuffle(ids)
    paths = [unknown_path(rng) for _ in range(50)]
    with ThreadPoolExecutor(4) as pool:  # 4 at a time: the same requests, sooner
        list(pool.map(http.get, [f"/books/{book}" for book in ids]))
        answers = list(pool.map(http.get, paths))
    for path, r in zip(paths, answers, strict=True):
        if r.status_code != 404:
            fail(
                "unexpected-status", f"GET {path} answered {said(r)}; expected 404 (no such page)."
            )
    sent = len(ids) + len(paths)

    def counted(exposition) -> float:
        return sum(v for k, v in deltas(histogram.counts(before), histogram.counts(exposition)).items()
                   if not is_metrics_route(k[1]))  # fmt: skip

    after = scrape_until(http, lambda e: counted(e) >= sent, histogram=histogram)
    new = sorted(after.series() - before.series())
    if new:

        def names(series):
            return ", ".join(
                f"{n}{{{', '.join(f'{k}={v!r}' for k, v in labels)}}}" for n, labels in series[:2]
            )

        by_id = [s for s in new if any(f"/{b}" in v for _, v in s[1] for b in ids)]
        if by_id:
            fail("path-as-label", f"50 GET /books/{{id}} for different ids added {len(new)} series "
                 f"to /metrics, such as {names(by_id)}; expected none: one route label for all ids.")  # fmt: skip
        fail("unmatched-series", f"50 requests to unknown paths added {len(new)} series to /metrics, "
             f"such as {names(new)}; expected none: one label for every path no route matched.")  # fmt: skip
    changed = {k: v for k, v in deltas(histogram.counts(before), histogram.counts(after)).items()
               if not is_metrics_route(k[1])}  # fmt: skip
    if sum(changed.values()) != sent:
        fail("miscounted", f"{sent} requests (50 book ids, 50 unknown paths) raised "
             f"{histogram.name}_count by {sum(changed.values()):g}; expected every request counted.")  # fmt: skip
    routes = {route for (_m, route, _s) in changed}
    if len(routes) != 2:
        fail("path-as-label", f"50 book ids and 50 unknown paths were counted under {len(routes)} "
             f"route labels ({sorted(routes)[:4]}); expected two: the book route's template, "
             "and one label for unmatched paths.")  # fmt: skip

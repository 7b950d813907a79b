"""Is a cached answer still the right answer?"""

from __future__ import annotations

from _helpers import BOOKS_UPDATED, CUSTOMERS, GENRES, clear_cache

from checker.verdict import fail


def _get_ok(http, path: str, headers: dict | None = None):
    r = http.get(path, headers=headers or {})
    assert r.status_code == 200, f"GET {path} answered {r.status_code}; expected 200"
    return r


def test_update_invalidates(http, rng):
    # Several books, and each field of the PATCH alone: an invalidation that only runs
    # for one field (or one book) is caught.
    for book_id in rng.sample(BOOKS_UPDATED, 2):
        path = f"/books/{book_id}"
        book = _get_ok(http, path).json()
        _get_ok(http, path)  # now it is cached, if the service caches it
        for change in (
            {"price_cents": book["price_cents"] + rng.randint(1, 500)},
            {"title": f"{book['title']} ({rng.randint(2, 9)}th ed.)"},
        ):
            r = http.patch(path, json=change)
            assert r.status_code == 200, f"PATCH {path} answered {r.status_code}; expected 200"
            for _ in range(2):  # a miss, then what the cache keeps
                after = _get_ok(http, path).json()
                stale = {k: after.get(k) for k, v in change.items() if after.get(k) != v}
                if stale:
                    fail(
                        "stale-after-update",
                        f"after PATCH {path} set {change}, GET {path} still answered "
                        f"{stale}: the cached copy kept the old values",
                    )


def _genres(body: dict) -> set[str]:
    return {b["genre"] for b in body["books"]}


def _bestsellers_path(genre: str | None, limit: int) -> str:
    return f"/books/bestsellers?limit={limit}" + (f"&genre={genre}" if genre else "")


def test_params_have_own_entries(http, redis, rng):
    # Every genre, with limits drawn per run; pairs that share a genre but not a limit,
    # a limit but not a genre; and no genre at all.
    genres = rng.sample(GENRES, len(GENRES))
    limits = [rng.randint(2, 12) for _ in genres]
    other = next(n for n in range(2, 13) if n != limits[0])
    # (genres[1], limits[0]): two genres with one limit on every run, not only when two
    # draws happen to agree (all six differ about one run in five).
    asked = [
        *zip(genres, limits, strict=True),
        (genres[0], other),
        (genres[1], limits[0]),
        (None, limits[0]),
    ]
    asked = list(dict.fromkeys(asked))
    truth = {}
    for genre, limit in asked:  # each on a cold cache: the right answer
        clear_cache(redis)
        truth[genre, limit] = _get_ok(http, _bestsellers_path(genre, limit)).json()
    clear_cache(redis)
    for genre, limit in asked + asked[::-1]:  # the second round may come from the cache
        path = _bestsellers_path(genre, limit)
        body = _get_ok(http, path).json()
        if genre is not None and _genres(body) != {genre}:
            fail(
                "key-ignores-genre",
                f"GET {path} answered books of {sorted(_genres(body))}: an answer cached for "
                "another genre",
            )
        if len(body["books"]) != limit:
            fail(
                "key-ignores-limit",
                f"GET {path} answered {len(body['books'])} books; expected {limit}: an answer "
                "cached for another limit",
            )
        if body != truth[genre, limit]:
            fail(
                "key-collision",
                f"GET {path} answered another list than the same request on an empty cache: "
                "an answer cached for other parameters",
            )


def _cache_control(r) -> set[str]:
    value = r.headers.get("cache-control", "")
    return {d.strip().split("=")[0].lower() for d in value.split(",") if d.strip()}


def test_per_customer_is_private(http, redis, rng):
    # Three customers drawn per run, each leaning towards another genre (seed.sql), so
    # their lists differ.
    first = rng.randint(3, CUSTOMERS - 3)
    customers = [first, first + 1, first + 2 + rng.randint(0, 1)]

    def ask(customer: int):
        r = _get_ok(http, "/recommendations", {"X-Customer-Id": str(customer)})
        directives = _cache_control(r)
        if "private" not in directives or "public" in directives:
            fail(
                "not-private",
                "expected a personal answer to say Cache-Control: private, so shared caches "
                f"do not keep it; it said {r.headers.get('cache-control', 'nothing')!r}",
            )
        return r

    own = {}
    for customer in customers:  # each computed on a cold cache: the right answers
        clear_cache(redis)
        own[customer] = ask(customer).json()
    clear_cache(redis)
    for customer in customers + customers[::-1]:
        r = ask(customer)
        if r.json() != own[customer]:
            other = next((c for c, body in own.items() if body == r.json()), None)
            whose = f"customer {other}'s list" if other else "a list that is not theirs"
            fail(
                "shared-key",
                f"GET /recommendations for customer {customer} (X-Customer-Id: {customer}) "
                f"answered {whose}",
            )

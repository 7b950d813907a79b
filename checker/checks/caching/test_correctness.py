"""Is a cached answer still the right answer?"""

from __future__ import annotations

from _helpers import clear_cache

BOOK = 7  # read by no other check


def test_update_invalidates(http):
    path = f"/books/{BOOK}"
    first = http.get(path)
    assert first.status_code == 200, f"GET {path} answered {first.status_code}; expected 200"
    http.get(path)  # now it is cached, if the service caches it
    book = first.json()
    change = {"price_cents": book["price_cents"] + 100, "title": book["title"] + " (2nd ed.)"}
    r = http.patch(path, json=change)
    assert r.status_code == 200, f"PATCH {path} answered {r.status_code}; expected 200"
    after = http.get(path).json()
    stale = {k: after.get(k) for k, v in change.items() if after.get(k) != v}
    assert not stale, (
        f"after PATCH {path} set {change}, GET {path} still answered "
        f"{stale}: the cached copy kept the old values"
    )


def _genres(body: dict) -> set[str]:
    return {b["genre"] for b in body["books"]}


def test_params_have_own_entries(http, redis):
    clear_cache(redis)
    asked = [("fantasy", 5), ("cooking", 5), ("fantasy", 3), ("history", 4)]
    for genre, limit in asked + asked:  # the second round may come from the cache
        path = f"/books/bestsellers?genre={genre}&limit={limit}"
        r = http.get(path)
        assert r.status_code == 200, f"GET {path} answered {r.status_code}; expected 200"
        body = r.json()
        assert _genres(body) == {genre}, (
            f"GET {path} answered books of {sorted(_genres(body))}: an answer cached for "
            "another genre"
        )
        assert len(body["books"]) == limit, (
            f"GET {path} answered {len(body['books'])} books; expected {limit}: an answer "
            "cached for another limit"
        )


def _cache_control(r) -> set[str]:
    value = r.headers.get("cache-control", "")
    return {d.strip().split("=")[0].lower() for d in value.split(",") if d.strip()}


def test_per_customer_is_private(http, redis):
    def ask(customer: int):
        r = http.get("/recommendations", headers={"X-Customer-Id": str(customer)})
        assert r.status_code == 200, f"GET /recommendations answered {r.status_code}"
        return r

    clear_cache(redis)
    own = {}
    for customer in (1, 2):  # each computed on a cold cache: the right answers
        clear_cache(redis)
        own[customer] = ask(customer).json()
    clear_cache(redis)
    for customer in (1, 2, 1, 2):
        r = ask(customer)
        if r.json() != own[customer]:
            other = next((c for c, body in own.items() if body == r.json()), None)
            whose = f"customer {other}'s list" if other else "a list that is not theirs"
            raise AssertionError(
                f"GET /recommendations for customer {customer} (X-Customer-Id: {customer}) "
                f"answered {whose}"
            )
        directives = _cache_control(r)
        assert "private" in directives and "public" not in directives, (
            "expected a personal answer to say Cache-Control: private, so shared caches "
            f"do not keep it; it said {r.headers.get('cache-control', 'nothing')!r}"
        )

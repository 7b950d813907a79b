"""The search itself, and the RateLimit fields on its answers."""

from __future__ import annotations

import string

from _helpers import (
    PATIENCE,
    POLICY,
    WORDS,
    Q,
    W,
    address,
    answer,
    client,
    new_partner,
    no_server_errors,
    ratelimit_policy,
    refill,
    reset_fell_inside,
    search,
    shown,
)
from _timed import until_refused

from checker.verdict import fail


def test_search_finds_books(http, db, rng):
    key, hop = new_partner(db, rng), address(rng)
    headers = {"X-API-Key": key, "X-Forwarded-For": hop}
    word = rng.choice(WORDS)
    r = http.get("/search", params={"q": word}, headers=headers)
    assert r.status_code == 200, (
        f"GET /search?q={word} with a partner's X-API-Key answered {r.status_code} "
        f"{shown(r.text)}; expected 200 with the matching books."
    )
    found = r.json().get("results") if isinstance(r.json(), dict) else None
    assert isinstance(found, list) and found, (
        f"GET /search?q={word} answered {shown(r.json())}; expected a list of books in "
        f"'results': the catalogue has many books with '{word}' in them."
    )
    # Write, then search again: a book added now is found by a word only it has.
    token = "".join(rng.choice(string.ascii_lowercase) for _ in range(10))
    book_id = db.execute(
        "INSERT INTO book (title, author, blurb, year) VALUES (%s, %s, %s, %s) RETURNING id",
        [f"The {token} affair", "Ann Example", "", rng.randint(1900, 2024)],
    ).fetchone()[0]
    r = http.get("/search", params={"q": token}, headers=headers)
    ids = [b.get("id") for b in r.json().get("results", [])] if r.status_code == 200 else None
    assert ids == [book_id], (
        f"A book titled 'The {token} affair' was just added; GET /search?q={token} answered "
        f"{r.status_code} with ids {ids}; expected exactly that book ({book_id})."
    )


def _fields_problem(a, i: int, first_sent: float) -> tuple[str, str] | None:
    """(kind, message) if answer ``a`` (the i-th search, 1-based) has wrong fields."""
    what = "allowed search (200)" if a.allowed else "refusal (429)"
    kind = "fields-missing-on-200" if a.allowed else "fields-missing-on-429"
    policy = ratelimit_policy(a.headers)
    if "ratelimit-policy" not in a.headers or "ratelimit" not in a.headers:
        missing = [h for h in ("RateLimit-Policy", "RateLimit") if h.lower() not in a.headers]
        return kind, (f"The {what} #{i} has no {' and no '.join(missing)} field; expected "
                      f'both on every answer: RateLimit-Policy: "{POLICY}";q={Q};w={W} and '
                      f'RateLimit: "{POLICY}";r=<left>;t=<seconds to reset>.')  # fmt: skip
    if not any(p == {"q": Q, "w": W} for p in policy.values()):
        return "policy-wrong", (f"RateLimit-Policy: {a.headers['ratelimit-policy']}; expected "
                                f'"{POLICY}";q={Q};w={W} ({Q} searches per {W} s).')  # fmt: skip
    st = a.state
    if st is None or st["t"] < 0:
        return "policy-wrong", (f"RateLimit: {a.headers['ratelimit']}; expected "
                                f'"{POLICY}";r=<searches left>;t=<seconds to reset>, '
                                "naming the policy of RateLimit-Policy.")  # fmt: skip
    if not 0 <= st["t"] <= W:
        return "reset-out-of-range", (f"The {what} #{i} says t={st['t']}; expected the "
                                      f"seconds until the quota resets: 0 to {W}.")  # fmt: skip
    if a.allowed:
        low, high = Q - i, min(Q - 1, Q - i + refill(a.at - first_sent))
        if not low <= st["r"] <= high:
            expected = f"r={low}" if low == high else f"r between {low} and {high}"
            return "remaining-off", (f"A new partner's search #{i} says r={st['r']}; expected "
                                     f"{expected}: r is what is left after this search.")  # fmt: skip
    elif st["r"] != 0:
        return "remaining-off", f"The 429 says r={st['r']}; expected r=0: nothing is left."
    return None


def test_ratelimit_fields_on_every_answer(base_url, db, rng):
    with client(base_url) as c:
        for attempt in range(2):
            key, hop = new_partner(db, rng), address(rng)
            answers = until_refused(lambda: search(c, rng, key=key, hop=hop), PATIENCE)  # noqa: B023
            no_server_errors(answers, "searches in a row with one API key")
            problem = next(
                (p for i, a in enumerate(answers, 1)
                 if (p := _fields_problem(a, i, answers[0].sent))), None,
            )  # fmt: skip
            if answers[-1].allowed and problem is None:
                problem = ("never-refused", f"{len(answers)} searches in a row with one API "
                           f"key all answered 200; expected a 429 once the quota was used, "
                           "with the fields too.")  # fmt: skip
            if problem and attempt == 0 and reset_fell_inside(answers):
                continue  # a window reset in the middle: once more, in a fresh one
            break
        if problem:
            fail(*problem)
        anonymous = answer(search(c, rng, hop=address(rng)))
        if anonymous.allowed and (p := _fields_problem(anonymous, 1, anonymous.sent)):
            kind, message = p
            fail(kind, f"An anonymous caller's first search: {message}")

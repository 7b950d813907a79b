"""Two PATCHes with the same If-Match at once: exactly one wins (RFC 9110 s13.1.1).

The gate: the checker holds the book's row lock (`SELECT ... FOR UPDATE`) until both
PATCHes wait behind it, then lets them go together. A service that compares the ETag
in Python, then writes unconditionally, has let both pass the comparison by then: both
answer 200 and the second silently overwrites the first, on every run. The two go to
the service's two copies: a lock inside one process does not serialise them.
"""

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from _helpers import create_v2, is_problem, said, shown, title, v2_book

from checker.verdict import expect, fail

GATE = "SELECT 1 FROM books WHERE id = %s FOR UPDATE"


def _patch(base_url: str, path: str, body: dict, headers: dict) -> httpx.Response:
    with httpx.Client(base_url=base_url, timeout=15) as client:
        return client.patch(path, json=body, headers=headers)


@pytest.mark.check("if_match_race")
def test_same_if_match_twice_at_once(http, base_urls, locks, rng):
    for _ in range(2):
        book = create_v2(http, v2_book(rng))
        path = f"/v2/books/{book['id']}"
        tag = http.get(path).headers.get("etag")
        expect(bool(tag), "no-etag", f"GET {path} answered without an ETag; expected one")
        first = title(rng, unlike=book["title"])
        titles = [first, title(rng, unlike=first)]
        while titles[1] == book["title"]:
            titles[1] = title(rng, unlike=first)
        with ThreadPoolExecutor(2) as pool, locks.gate(GATE, [book["id"]], waiters=2) as gate:
            urls = [base_urls[0], base_urls[-1]]  # one to each copy of the service
            futures = [
                pool.submit(_patch, url, path, {"title": t}, {"If-Match": tag})
                for url, t in zip(urls, titles, strict=True)
            ]
            waited = gate.release()
        answers = [f.result() for f in futures]
        statuses = sorted(a.status_code for a in answers)
        if statuses == [200, 200]:
            fail("both-won",
                 f"Two PATCH {path} with the same If-Match: {tag}, sent at once ({waited} waited together for the row), both answered 200: the second overwrote the first without seeing it (a lost update); expected one 200 and one 412")  # fmt: skip
        expect(statuses == [200, 412], "wrong-status",
               f"Two PATCH {path} with the same If-Match: {tag}, sent at once, answered {statuses} ({shown(answers[0])} / {shown(answers[1])}); expected one 200 and one 412 Precondition Failed")  # fmt: skip
        won = next(a for a in answers if a.status_code == 200)
        lost = next(a for a in answers if a.status_code == 412)
        expect(
            is_problem(lost),
            "not-problem",
            f"The losing PATCH answered 412 as {shown(lost)}; expected application/problem+json",
        )
        winner = titles[answers.index(won)]
        new_tag = won.headers.get("etag")
        expect(new_tag not in (None, tag), "etag-unchanged",
               f"The winning PATCH answered ETag {new_tag}; expected a new ETag (it was {tag})")  # fmt: skip
        now = http.get(path)
        expect(now.json().get("title") == winner, "lost-update",
               f"After the race GET {path} answered title {now.json().get('title')!r}; expected {winner!r}, the 200's")  # fmt: skip
        expect(now.headers.get("etag") == new_tag, "etag-mismatch",
               f"After the race GET {path} answered ETag {now.headers.get('etag')}; expected {new_tag}, the one the 200 gave")  # fmt: skip
        stale = http.patch(path, json={"title": "stale"}, headers={"If-Match": tag})
        expect(stale.status_code == 412, "stale-accepted",
               f"PATCH {path} with the old If-Match: {tag} answered {said(stale)}; expected 412")  # fmt: skip
        fresh = http.patch(path, json={"subtitle": None}, headers={"If-Match": new_tag})
        expect(fresh.status_code == 200, "current-refused",
               f"PATCH {path} with the current If-Match: {new_tag} answered {said(fresh)} ({shown(fresh)}); expected 200")  # fmt: skip


@pytest.mark.check("if_match_race")
def test_patch_without_if_match_is_428(http, rng):
    book = create_v2(http, v2_book(rng))
    path = f"/v2/books/{book['id']}"
    r = http.patch(path, json={"title": title(rng, unlike=book["title"])})
    expect(r.status_code == 428 and is_problem(r), "no-428",
           f"PATCH {path} without If-Match answered {said(r)} ({shown(r)}); expected 428 Precondition Required as problem+json (RFC 6585 s3)")  # fmt: skip
    after = http.get(path).json()
    expect(after.get("title") == book["title"], "no-428",
           f"PATCH {path} without If-Match changed the title to {after.get('title')!r}; it must change nothing")  # fmt: skip

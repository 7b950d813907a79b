"""v2's cursors are opaque keysets; v1 keeps its numbered pages.

The walk: the checker pages through /v2/books while it deletes books the walk already
showed and puts new ones in, some into the id gaps it just made (behind the cursor).
A cursor that counts positions skips a book after each delete and repeats one after
each insert behind it; a keyset cursor does neither. Only books present during the
whole walk are judged. Pages alternate between the service's two copies: a cursor
kept in one process's memory is not a cursor.
"""

import base64
import re

import pytest
from _helpers import is_problem, said, shown

from checker.verdict import expect, fail

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _insert(db, title: str, book_id: int | None = None) -> int:
    if book_id is None:
        sql = "INSERT INTO books (title, authors, price_amount) VALUES (%s, ARRAY['Walker'], 5) RETURNING id"
        return db.execute(sql, [title]).fetchone()[0]
    sql = "INSERT INTO books (id, title, authors, price_amount) VALUES (%s, %s, ARRAY['Walker'], 5) RETURNING id"
    return db.execute(sql, [book_id, title]).fetchone()[0]


def _page(http, path: str, base_url: str | None = None) -> dict:
    r = http.get(f"{base_url}{path}" if base_url else path)
    expect(
        r.status_code == 200,
        "walk-broken",
        f"GET {path} answered {said(r)} ({shown(r)}); expected 200",
    )
    body = r.json()
    expect(isinstance(body.get("items"), list) and "next_cursor" in body, "walk-broken",
           f"GET {path} answered {shown(r)}; expected {{\"items\": [...], \"next_cursor\": ...}}")  # fmt: skip
    return body


@pytest.mark.check("v2_cursor_walk")
def test_walk_while_books_come_and_go(http, db, rng, base_urls):
    limit = rng.randint(4, 7)
    own = [_insert(db, f"Walk {rng.randint(1, 10**6)} #{i}") for i in range(limit * 5)]
    start = {row[0] for row in db.execute("SELECT id FROM books")}
    deleted: set[int] = set()
    gaps: list[int] = []
    seen: list[int] = []
    body = _page(http, f"/v2/books?limit={limit}")
    for turn in range(1, 501):
        seen.extend(b["id"] for b in body["items"])
        cursor = body.get("next_cursor")
        if not cursor:
            break
        shown_own = [b for b in seen if b in own and b not in deleted]
        if gaps and turn % 2 == 0:
            _insert(db, "Walk refill", gaps.pop())  # a new book behind the cursor
        elif shown_own:
            victim = rng.choice(shown_own)  # a book the walk has shown: gone now
            db.execute("DELETE FROM books WHERE id = %s", [victim])
            deleted.add(victim)
            gaps.append(victim)
        _insert(db, "Walk new")  # and one after everything
        # Each page from the other copy of the service: a cursor is the client's to keep.
        body = _page(
            http, f"/v2/books?limit={limit}&cursor={cursor}", base_urls[turn % len(base_urls)]
        )
    else:
        fail("walk-broken", f"Walking /v2/books?limit={limit} did not end after 500 pages")
    throughout = start - deleted
    repeated = sorted({b for b in seen if seen.count(b) > 1})
    missing = sorted(throughout - set(seen))
    if missing:
        fail("skipped",
             f"Walking /v2/books?limit={limit} while books were deleted behind the cursor and added, "
             f"{len(missing)} book(s) present the whole time never showed up (e.g. {missing[:3]}); every one must appear once")  # fmt: skip
    if repeated:
        fail("repeated",
             f"Walking /v2/books?limit={limit} while books were added behind the cursor, "
             f"{len(repeated)} book(s) showed up twice (e.g. {repeated[:3]}); each must appear once")  # fmt: skip


def _forged(cursor: str) -> str | None:
    """The cursor with the number in its readable part changed (None if none is)."""
    parts = cursor.split(".")
    for i, part in enumerate(parts):
        try:
            raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            continue
        m = re.search(r"\d+", raw)
        if not m or not raw.isprintable():
            continue
        edited = raw[: m.start()] + str(max(0, int(m.group()) - 2)) + raw[m.end() :]
        if edited == raw:
            edited = raw[: m.start()] + str(int(m.group()) + 3) + raw[m.end() :]
        enc = base64.urlsafe_b64encode(edited.encode()).decode()
        if "=" not in part:
            enc = enc.rstrip("=")
        return ".".join(parts[:i] + [enc] + parts[i + 1 :])
    return None


def _flipped(cursor: str, rng) -> str:
    """One character changed, never the last of a segment (its spare bits may not count)."""
    spots = [
        i for i, c in enumerate(cursor) if c in B64 and i + 1 < len(cursor) and cursor[i + 1] in B64
    ]
    i = rng.choice(spots) if spots else 0
    new = rng.choice([c for c in B64 if c != cursor[i]])
    return cursor[:i] + new + cursor[i + 1 :]


@pytest.mark.check("v2_cursor_walk")
def test_edited_cursor_is_400(http, rng):
    body = _page(http, f"/v2/books?limit={rng.randint(2, 4)}")
    cursor = body.get("next_cursor")
    expect(
        isinstance(cursor, str) and cursor,
        "walk-broken",
        "GET /v2/books with more books than the limit answered no next_cursor; expected one",
    )
    edits = [
        e
        for e in (_forged(cursor), _flipped(cursor, rng), _flipped(cursor, rng))
        if e and e != cursor
    ]
    for edited in edits:
        r = http.get("/v2/books", params={"limit": 3, "cursor": edited})
        if r.status_code == 200:
            fail("edited-cursor-accepted",
                 f"GET /v2/books with an edited cursor ({edited!r}, the service gave {cursor!r}) answered 200; expected 400 problem+json: a cursor is the service's own, not the client's to write")  # fmt: skip
        expect(r.status_code == 400 and is_problem(r), "edited-cursor-status",
               f"GET /v2/books with an edited cursor ({edited!r}) answered {said(r)} ({shown(r)}); expected 400 problem+json")  # fmt: skip


@pytest.mark.check("v2_cursor_walk")
def test_v1_keeps_page_numbers(http, rng):
    per_page = rng.randint(2, 4)
    one = http.get("/v1/books", params={"page": 1, "per_page": per_page})
    two = http.get("/v1/books", params={"page": 2, "per_page": per_page})
    expect(one.status_code == 200 and two.status_code == 200, "v1-pages",
           f"GET /v1/books?page=1 and page=2 (per_page={per_page}) answered {said(one)} and {said(two)}; expected 200 twice")  # fmt: skip
    a, b = [x["id"] for x in one.json()["items"]], [x["id"] for x in two.json()["items"]]
    expect(len(a) == per_page and len(b) == per_page and max(a) < min(b), "v1-pages",
           f"GET /v1/books?page=1 and page=2 (per_page={per_page}) listed books {a} and {b}; expected {per_page} each, page 2 after page 1")  # fmt: skip

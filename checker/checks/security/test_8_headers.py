"""Every answer carries the security headers (OWASP REST Security; RFC 6797)."""

import re

from _helpers import auth, make_book, make_user, said, word

from checker.verdict import fail

YEAR = 31_536_000
LEAKS = ("Traceback", 'File "', "psycopg", "sqlalchemy", "SELECT ", "books_away")


def _missing(response, *, signed_in: bool) -> list[str]:
    h = response.headers
    gaps = []
    if h.get("x-content-type-options", "").strip().lower() != "nosniff":
        gaps.append(f"X-Content-Type-Options: nosniff (got {h.get('x-content-type-options')})")
    csp = {d.strip().lower() for d in h.get("content-security-policy", "").split(";")}
    if not {"default-src 'none'", "frame-ancestors 'none'"} <= csp:
        gaps.append("Content-Security-Policy: default-src 'none'; frame-ancestors 'none' "
                    f"(got {h.get('content-security-policy')})")  # fmt: skip
    age = re.search(r"max-age\s*=\s*\"?(\d+)", h.get("strict-transport-security", ""), re.I)
    if age is None or int(age.group(1)) < YEAR:
        gaps.append(f"Strict-Transport-Security: max-age={YEAR} or more "
                    f"(got {h.get('strict-transport-security')})")  # fmt: skip
    if signed_in and "no-store" not in h.get("cache-control", "").lower():
        gaps.append(f"Cache-Control: no-store (got {h.get('cache-control')})")
    return gaps


def test_security_headers_everywhere(http, db, rng):
    _, _, token = make_user(db, rng)
    book = make_book(db, f"The {word(rng)} Almanac")
    probes = [
        ("GET /health", http.get("/health"), False),
        ("GET /books/search", http.get("/books/search", params={"q": "dune"}), False),
        (f"GET /books/{book}", http.get(f"/books/{book}"), False),
        ("GET /downloads/ebooks/welcome.txt", http.get("/downloads/ebooks/welcome.txt"), False),
        ("GET /no-such-page (404)", http.get(f"/{word(rng)}"), False),
        ("GET /books/0 (422)", http.get("/books/0"), False),
        ("DELETE /books/search (405)", http.delete("/books/search"), False),
        ("PATCH /me without a session (401)", http.patch("/me", json={"bio": "x"}), False),
        ("GET /me", http.get("/me", headers=auth(token)), True),
        ("PATCH /me", http.patch("/me", json={"bio": word(rng)}, headers=auth(token)), True),
        (
            "POST /orders",
            http.post("/orders", json={"items": [{"book_id": book}]}, headers=auth(token)),
            True,
        ),  # fmt: skip
    ]
    rng.shuffle(probes)
    for what, r, signed_in in probes:
        gaps = _missing(r, signed_in=signed_in)
        if gaps:
            kind = (
                "cacheable-private"
                if all(g.startswith("Cache-Control") for g in gaps)
                else "missing-header"
            )
            fail(kind, f"{what} answered {said(r)} without {'; '.join(gaps)}; expected these "
                       "headers on every answer.")  # fmt: skip
        if r.status_code >= 400 and any(leak in r.text for leak in LEAKS):
            fail("traceback", f"{what} answered {said(r)} with code or SQL in its body; expected "
                              "a problem+json with a plain detail.")  # fmt: skip

    # A real 500: the books table goes away for a moment, so the search fails inside.
    db.execute("SET lock_timeout = '3s'")
    db.execute("ALTER TABLE books RENAME TO books_away")
    try:
        r = http.get("/books/search", params={"q": word(rng)})
    finally:
        db.execute("ALTER TABLE books_away RENAME TO books")
    if r.status_code < 500:
        return  # the service answered without the table (a cache): nothing more to see here
    if any(leak in r.text for leak in LEAKS):
        fail("traceback", f"A search that failed inside the service answered {said(r)} with code "
                          "or SQL in its body; expected problem+json with a plain detail.")  # fmt: skip
    gaps = _missing(r, signed_in=False)
    if gaps:
        fail("missing-on-500", f"A search that failed inside the service answered {said(r)} "
                               f"without {'; '.join(gaps)}; expected the headers on a 500 too.")  # fmt: skip

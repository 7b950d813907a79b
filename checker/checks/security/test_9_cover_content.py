"""Bonus: a cover is a real image of a sane size (OWASP File Upload cheat sheet)."""

import os

from _helpers import auth, make_book, make_user, said, shown, word

from checker.verdict import fail

MB = 1024 * 1024
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
HTML = b"<!doctype html><html><body><script>fetch('/me')</script></body></html>"


def _stored(db, book: int) -> int:
    return db.execute("SELECT count(*) FROM covers WHERE book_id = %s", (book,)).fetchone()[0]


def test_cover_content_checked(http, db, rng, sinks):
    covers = sinks["covers"]
    _, _, token = make_user(db, rng, admin=True)

    good = make_book(db, f"The {word(rng)} Folio")
    image = JPEG + os.urandom(rng.randint(500, 3000))
    covers.respond_next(image, content_type="image/jpeg")
    r = http.post(f"/books/{good}/cover", json={"url": f"{covers.url}/{word(rng)}.jpg"},
                  headers=auth(token))  # fmt: skip
    if r.status_code != 201 or not _stored(db, good):
        fail("cover-refused", f"A real JPEG from the cover host answered {said(r)} {shown(r)}; "
                              "expected 201 and the cover stored.")  # fmt: skip

    chunk = b"\x89PNG\r\n\x1a\n" + os.urandom(256 * 1024 - 8)
    # The web pages first: a service that takes anything is told so before it has
    # downloaded and stored 50 MB.
    probes = [
        ("a web page sent as image/jpeg", dict(body=HTML, content_type="image/jpeg")),
        ("a web page sent as text/html", dict(body=HTML, content_type="text/html")),
        ("a 50 MB PNG", dict(body=chunk, content_type="image/png", repeat=200)),
    ]
    for what, answer in probes:
        book = make_book(db, f"The {word(rng)} Folio")
        covers.respond_next(**answer)
        url = f"{covers.url}/covers/cover.jpg"
        r = http.post(f"/books/{book}/cover", json={"url": url}, headers=auth(token), timeout=30)
        if 200 <= r.status_code < 300 or _stored(db, book):
            fail("accepted", f"The cover host sent {what} for {url}, and POST /books/{book}/cover "
                             f"answered {said(r)}; expected a refusal (413 or 415) and nothing "
                             "stored.")  # fmt: skip

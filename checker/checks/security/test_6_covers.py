"""Covers come only from the cover host (OWASP API7:2023, SSRF; CWE-918)."""

import os
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import httpx
from _helpers import auth, make_book, make_user, said, shown, word

from checker.verdict import fail

REFUSED = (400, 403, 422)
PNG = b"\x89PNG\r\n\x1a\n"


def _targets(internal: str, cover: str, rng) -> list[str]:
    port = urlsplit(internal).port
    cover_netloc = urlsplit(cover).netloc
    a, b, c = (rng.randint(1, 254) for _ in range(3))
    always = [
        f"http://127.0.0.1:{port}/admin/users",
        f"http://localhost.:{port}/admin/users",
        f"http://[::1]:{port}/admin/users",
        f"http://[::ffff:127.0.0.1]:{port}/admin/users",
        f"http://2130706433:{port}/admin/users",
        f"http://0x7f.1:{port}/admin/users",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        f"http://10.{a}.{b}.{c}/covers/{word(rng)}.png",
        "file:///etc/passwd",
        f"gopher://127.0.0.1:{port}/_GET%20/admin/users",
        f"http://{cover_netloc}@127.0.0.1:{port}/admin/users",
    ]
    more = [
        f"http://127.1:{port}/admin/users",
        f"http://0.0.0.0:{port}/admin/users",
        f"http://0177.0.0.1:{port}/admin/users",
        f"http://[0:0:0:0:0:ffff:7f00:1]:{port}/admin/users",
        f"https://127.0.0.1:{port}/admin/users",
        f"http://localhost:{port}/admin/users",
    ]
    return always + rng.sample(more, 3)


def _stored(db, book: int) -> int:
    return db.execute("SELECT count(*) FROM covers WHERE book_id = %s", (book,)).fetchone()[0]


def test_cover_fetch_no_ssrf(http, db, rng, base_url, sinks, receivers):
    covers, internal = sinks["covers"], receivers["internal"]
    _, _, token = make_user(db, rng, admin=True)
    good, probed, redirected = (make_book(db, f"The {word(rng)} Atlas") for _ in range(3))

    image = PNG + os.urandom(rng.randint(200, 2000))
    covers.respond_next(image, content_type="image/png")
    url = f"{covers.url}/covers/{word(rng)}.png"
    r = http.post(f"/books/{good}/cover", json={"url": url}, headers=auth(token))
    back = http.get(f"/books/{good}/cover")
    if r.status_code != 201 or back.content != image:
        fail("cover-refused", f"POST /books/{good}/cover with {url} (a PNG on the cover host) "
                              f"answered {said(r)} {shown(r)}, and GET /books/{good}/cover gave "
                              f"{len(back.content)} bytes; expected 201 and the same "
                              f"{len(image)} bytes back.")  # fmt: skip

    targets = _targets(internal.url, covers.url, rng)

    def post(target: str) -> tuple[str, int | None]:
        with httpx.Client(base_url=base_url, timeout=8) as client:
            try:
                got = client.post(
                    f"/books/{probed}/cover", json={"url": target}, headers=auth(token)
                )
            except httpx.TimeoutException:
                return target, None
            return target, got.status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(post, targets))

    covers.redirect_next(f"{internal.url}/admin/delete-all-users")
    via = f"{covers.url}/covers/{word(rng)}.jpg"
    r = http.post(f"/books/{redirected}/cover", json={"url": via}, headers=auth(token))

    internal.settle(quiet=0.2, timeout=3)
    calls = internal.calls()
    if calls:
        fail("internal-reached", f"The internal admin endpoint received {len(calls)} call(s) "
                                 f"({', '.join(c['method'] + ' ' + c['path'] for c in calls[:3])}) "
                                 "while staff set covers; expected none: covers come only from "
                                 "the cover host, and a redirect is not followed.")  # fmt: skip
    if _stored(db, probed):
        fail("stored", f"After cover URLs outside the cover host, book {probed} has a cover "
                       "stored; expected none.")  # fmt: skip
    if 200 <= r.status_code < 300 or _stored(db, redirected):
        fail("redirect-followed", f"The cover host answered 302 to the internal admin, and POST "
                                  f"/books/{redirected}/cover answered {said(r)}; expected a "
                                  "refusal (502) and no cover stored.")  # fmt: skip
    for target, status in answers:
        if status is None:
            fail("not-refused", f"POST /books/{probed}/cover with {target} did not answer within "
                                "8 s: your service was trying to fetch it. Expected 422 at once.")  # fmt: skip
        if status not in REFUSED:
            fail("not-refused", f"POST /books/{probed}/cover with {target} answered {status}; "
                                "expected 422: that URL is not on the cover host, so it is never "
                                "fetched.")  # fmt: skip

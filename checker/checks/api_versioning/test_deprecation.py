"""Every /v1 answer, errors included, announces the deprecation; /v2 answers don't.

RFC 9745: `Deprecation` is a structured-field Date (RFC 9651: `@` + epoch seconds) and
`Link: <...>; rel="deprecation"` points at the documentation. RFC 8594: `Sunset` is an
HTTP-date, and can't come before the deprecation.
"""

import pytest
from _helpers import create_v2, http_date, links, said, sf_date, title, v2_book

from checker.verdict import expect, fail


def _v1_answers(http, db, rng):
    book = create_v2(http, v2_book(rng))["id"]
    top = db.execute("SELECT coalesce(max(id), 0) FROM books").fetchone()[0]
    missing = top + rng.randint(1000, 1_000_000)
    page = rng.randint(1, 3)
    return [
        ("GET", f"/v1/books?page={page}&per_page=5", None),
        ("GET", f"/v1/books/{book}", None),
        ("PATCH", f"/v1/books/{book}", {"title": title(rng)}),
        ("GET", f"/v1/books/{missing}", None),
        ("POST", "/v1/books", {"title": "", "author": "A. Nobody", "price": -rng.randint(1, 50)}),
        ("GET", f"/v1/books?per_page={rng.randint(51, 500)}", None),
        ("GET", f"/v1/no-such-{rng.randint(1, 999)}", None),
        ("DELETE", f"/v1/books/{book}", None),
    ]


@pytest.mark.check("v1_deprecation_headers")
def test_every_v1_answer_is_deprecated(http, db, rng):
    seen_ok = False
    epochs = set()
    for method, path, body in _v1_answers(http, db, rng):
        r = http.request(method, path, json=body)
        what = f"{method} {path} answered {said(r)}"
        value = r.headers.get("deprecation")
        if value is None:
            if seen_ok and r.status_code >= 400:
                fail(
                    "missing-on-errors",
                    f"{what} without a Deprecation header, though the successful v1 answers had one; every /v1 answer, errors too, must say v1 is deprecated",
                )
            fail(
                "missing",
                f"{what} without a Deprecation header; expected `Deprecation: @<epoch seconds>` (RFC 9745) on every /v1 answer",
            )
        epoch = sf_date(value)
        if epoch is None:
            if value.strip().lower() in ("true", "?1"):
                fail(
                    "old-draft-format",
                    f"{what} with `Deprecation: {value}`, the value of the old drafts; RFC 9745 wants a structured-field Date, `@` and the epoch seconds (e.g. `@1780272000`)",
                )
            fail(
                "bad-deprecation",
                f"{what} with `Deprecation: {value}`; expected a structured-field Date, `@` and the epoch seconds (e.g. `@1780272000`)",
            )
        epochs.add(epoch)
        sunset_header = r.headers.get("sunset")
        sunset = http_date(sunset_header)
        expect(sunset is not None, "bad-sunset",
               f"{what} with Sunset: {sunset_header!r}; expected an HTTP-date like `Tue, 01 Jun 2027 00:00:00 GMT` (RFC 8594, RFC 9110 s5.6.7)")  # fmt: skip
        expect(sunset.timestamp() > epoch, "sunset-before-deprecation",
               f"{what} with Sunset {sunset_header} at or before the Deprecation date (@{epoch}); the sunset comes after the deprecation")  # fmt: skip
        targets = [t for t, rels in links(r.headers.get("link")) if "deprecation" in rels and t]
        expect(bool(targets), "no-link",
               f"{what} with Link: {r.headers.get('link')!r}; expected a link with rel=\"deprecation\" to the migration guide (RFC 9745 s3)")  # fmt: skip
        if r.status_code < 400:
            seen_ok = True
    expect(len(epochs) == 1, "inconsistent",
           f"The /v1 answers gave different Deprecation dates ({sorted(epochs)}); v1 was deprecated once")  # fmt: skip


@pytest.mark.check("v1_deprecation_headers")
def test_v2_is_not_deprecated(http, db, rng):
    book = create_v2(http, v2_book(rng))["id"]
    top = db.execute("SELECT coalesce(max(id), 0) FROM books").fetchone()[0]
    for path in (
        "/v2/books?limit=3",
        f"/v2/books/{book}",
        f"/v2/books/{top + rng.randint(1000, 99999)}",
    ):
        r = http.get(path)
        for header in ("deprecation", "sunset"):
            expect(header not in r.headers, "on-v2",
                   f"GET {path} answered {said(r)} with {header.title()}: {r.headers.get(header)}; v2 is not deprecated, so it must not say so")  # fmt: skip

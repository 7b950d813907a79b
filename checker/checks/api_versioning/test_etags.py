"""Bonus: one strong ETag per representation (RFC 9110 s8.8.3 and s13.1.2)."""

import pytest
from _helpers import create_v2, said, v2_book

from checker.verdict import expect


@pytest.mark.check("etag_per_representation")
def test_v1_and_v2_etags_differ(http, rng):
    book = create_v2(http, v2_book(rng))["id"]
    v1, v2 = f"/v1/books/{book}", f"/v2/books/{book}"
    t1, t2 = http.get(v1).headers.get("etag"), http.get(v2).headers.get("etag")
    expect(
        bool(t1) and bool(t2),
        "no-etag",
        f"GET {v1} answered ETag {t1!r} and GET {v2} {t2!r}; expected an ETag on both",
    )
    expect(not t1.startswith("W/") and not t2.startswith("W/"), "weak",
           f"GET {v1} and {v2} answered ETags {t1} and {t2}; expected strong ETags (no W/)")  # fmt: skip
    expect(t1 != t2, "same-etag",
           f"GET {v1} and GET {v2} answered the same ETag {t1}, for two different bodies; a strong ETag names one representation")  # fmt: skip
    for path, own, other in ((v1, t1, t2), (v2, t2, t1)):
        hit = http.get(path, headers={"If-None-Match": own})
        expect(
            hit.status_code == 304,
            "no-304",
            f"GET {path} with If-None-Match: {own} (its own ETag) answered {said(hit)}; expected 304 Not Modified",
        )
        miss = http.get(path, headers={"If-None-Match": other})
        expect(miss.status_code == 200, "cross-304",
               f"GET {path} with If-None-Match: {other} (the other version's ETag) answered {said(miss)}; expected 200 with the body")  # fmt: skip

"""/books picks its version from Accept (RFC 9110 s12.5.1) and says Vary: Accept."""

import pytest
from _helpers import (
    V2_TYPE,
    create_v2,
    is_problem,
    media_type,
    said,
    shown,
    v2_book,
    varies_on_accept,
)

from checker.verdict import fail


def _version(body) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("items"), list):
        body = body["items"][0] if body["items"] else None
    if not isinstance(body, dict):
        return None
    if "authors" in body:
        return "v2"
    if "author" in body:
        return "v1"  # (the price's JSON type is the replay's business)
    return None


def _cases(rng):
    low = rng.choice(["0.1", "0.2", "0.3", "0.5"])
    high = rng.choice(["0.6", "0.8", "0.9"])
    return [
        (None, "v1"),
        ("application/json", "v1"),
        (V2_TYPE, "v2"),
        (f"application/json;q={low}, {V2_TYPE}", "v2"),
        (f"{V2_TYPE};q={low}, application/json", "v1"),
        (f"application/json;q={low}, {V2_TYPE};q={high}", "v2"),
        (f"{V2_TYPE};q={low}, application/json;q={high}", "v1"),
        ("*/*", "v1"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "v1"),
        ("application/xml", 406),
    ]


@pytest.mark.check("negotiation")
def test_books_negotiates(http, rng):
    book = create_v2(http, v2_book(rng))["id"]
    problems: dict[str, str] = {}
    for path in (f"/books/{book}", "/books?limit=2&per_page=2"):
        for accept, want in _cases(rng):
            headers = {"Accept": accept} if accept is not None else {}
            r = http.get(path, headers=headers)
            what = f"GET {path} with " + (f"Accept: {accept}" if accept else "no Accept")
            if want == 406:
                if r.status_code != 406:
                    problems.setdefault(
                        "no-406",
                        f"{what} answered {said(r)}; expected 406 Not Acceptable (no type the client accepts is offered)",
                    )
                elif not is_problem(r):
                    problems.setdefault(
                        "no-406",
                        f"{what} answered 406 as {media_type(r) or 'no type'} ({shown(r)}); expected application/problem+json",
                    )
            elif r.status_code != 200:
                problems.setdefault(
                    "wrong-version",
                    f"{what} answered {said(r)} ({shown(r)}); expected 200 with {want}",
                )
                continue
            else:
                got = _version(r.json())
                if got != want:
                    problems.setdefault(
                        "wrong-version",
                        f"{what} answered {got or 'an unknown shape'} ({shown(r)}); expected {want}, the type the client ranks highest",
                    )
                    continue
                wanted_type = V2_TYPE if want == "v2" else "application/json"
                if media_type(r) not in (
                    wanted_type,
                    "application/vnd.folio.book.v1+json" if want == "v1" else V2_TYPE,
                ):
                    problems.setdefault(
                        "wrong-type",
                        f"{what} answered {want} labelled Content-Type: {r.headers.get('content-type')}; expected {wanted_type}",
                    )
            if not varies_on_accept(r):
                problems.setdefault(
                    "no-vary",
                    f"{what} answered {said(r)} with Vary: {r.headers.get('vary')!r}; expected Vary: Accept (the body depends on it)",
                )
    for kind in ("wrong-version", "no-406", "wrong-type", "no-vary"):
        if kind in problems:
            fail(kind, problems[kind])

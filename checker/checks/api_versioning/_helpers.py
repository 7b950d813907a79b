"""Helpers for the api-versioning checks: books made for each check, answers worded
for the learner, the v1 shape comparator and the header parsers.

Every check makes its own books (through the API or the database), so checks never
see each other's changes.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from checker.people import FIRST, LAST

V2_TYPE = "application/vnd.folio.book.v2+json"
CURRENCIES = ["EUR", "USD", "GBP", "CHF", "SEK", "JPY"]
WORDS = ["Amber", "Glass", "River", "Lantern", "Orbit", "Cedar", "Harbor", "Ember", "Quill", "Tide"]


def said(response: httpx.Response | None) -> str:
    if response is None:
        return "no answer"
    return f"{response.status_code} {response.reason_phrase or ''}".strip()


def shown(response: httpx.Response) -> str:
    try:
        text = json.dumps(response.json())
    except ValueError:
        text = response.text or "an empty body"
    return text if len(text) <= 200 else text[:197] + "..."


def media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def is_problem(response: httpx.Response) -> bool:
    if media_type(response) != "application/problem+json":
        return False
    try:
        return response.json().get("status") == response.status_code
    except (ValueError, AttributeError):
        return False


#: Titles and authors as books have them, drawn per run: no shape marks the checks' books
#: (or the titles a check's PATCH sets) as theirs.
NOUNS = ["Road", "Letters", "Crown", "Island", "Daughter", "Clock", "Sea", "House", "Atlas",
         "Song", "Stranger", "Signal", "Bridge", "Garden", "Winter", "Machine"]  # fmt: skip


def title(rng, *, unlike: str = "") -> str:
    """A book's title, never ``unlike`` (a PATCH must change it)."""
    while True:
        word, noun, other = rng.choice(WORDS), rng.choice(NOUNS), rng.choice(NOUNS)
        name = rng.choice((f"The {word} {noun}", f"{word} and {other}", f"A {noun} of {word}",
                           f"The {noun} at {word} {other}", f"{noun}s of the {word} {other}"))  # fmt: skip
        if name != unlike:
            return name


def author(rng) -> str:
    return f"{rng.choice(FIRST).capitalize()} {rng.choice(LAST).capitalize()}"


def v2_book(rng, **overrides: Any) -> dict[str, Any]:
    body = {
        "title": title(rng),
        "subtitle": f"A {rng.choice(WORDS).lower()} story",
        "authors": [author(rng), author(rng)],
        "price": {"amount": f"{rng.randint(1, 80)}.{rng.randint(0, 99):02d}", "currency": rng.choice(CURRENCIES)},
        "format": rng.choice(["hardcover", "paperback", "ebook"]),
    }  # fmt: skip
    body.update(overrides)
    return body


def create_v2(http: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    r = http.post("/v2/books", json=body)
    assert r.status_code == 201, (
        f"POST /v2/books {json.dumps(body)} answered {said(r)} ({shown(r)}); expected 201 "
        "Created (the checks make their books through v2)"
    )
    book = r.json()
    assert isinstance(book, dict) and isinstance(book.get("id"), int), (
        f"POST /v2/books answered {shown(r)}; expected the new book with its integer id"
    )
    return book


# ---------------------------------------------------------------- v1 shapes


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def shape_differences(expected: Any, actual: Any, where: str = "body") -> list[tuple[str, str]]:
    """What a client parsing `expected`'s shape would trip over in `actual`: a field
    missing, or of another JSON type. Extra fields are fine. A recorded null says
    nothing about the type, so anything goes there."""
    if expected is None:
        return []
    te, ta = json_type(expected), json_type(actual)
    if te != ta:
        return [
            (
                "type-changed",
                f"{where} was a {te} ({_short(expected)}) and is now a {ta} ({_short(actual)})",
            )
        ]
    out: list[tuple[str, str]] = []
    if te == "object":
        for key, value in expected.items():
            if key not in actual:
                out.append(("field-missing", f"{where}.{key} is missing (it was {_short(value)})"))
            else:
                out.extend(shape_differences(value, actual[key], f"{where}.{key}"))
    elif te == "array" and expected:
        for i, item in enumerate(actual[:10]):
            options = [shape_differences(e, item, f"{where}[{i}]") for e in expected[:5]]
            best = min(options, key=len)
            out.extend(best)
    return out


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


# ---------------------------------------------------------------- deprecation headers

SF_DATE = re.compile(r"^@(-?\d{1,15})(;.*)?$")  # RFC 9651 s3.3.7, parameters allowed
IMF_FIXDATE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d{2}:\d{2}:\d{2} GMT$"
)


def sf_date(value: str | None) -> int | None:
    """The epoch seconds of a structured-field Date (`@1780272000`), else None."""
    m = SF_DATE.match((value or "").strip())
    return int(m.group(1)) if m else None


def http_date(value: str | None) -> datetime | None:
    """An IMF-fixdate (RFC 9110 s5.6.7), the form a sender must use, else None."""
    value = (value or "").strip()
    if not IMF_FIXDATE.match(value):
        return None
    try:
        return parsedate_to_datetime(value).astimezone(UTC)
    except (TypeError, ValueError):
        return None


def links(header: str | None) -> list[tuple[str, set[str]]]:
    """(target, rels) for each link-value of a Link header (RFC 8288)."""
    out = []
    for m in re.finditer(r"<([^>]*)>((?:\s*;\s*[^;,]+)*)", header or ""):
        rels: set[str] = set()
        for param in m.group(2).split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "rel":
                rels.update(value.strip().strip('"').lower().split())
        out.append((m.group(1), rels))
    return out


def varies_on_accept(response: httpx.Response) -> bool:
    names = {n.strip().lower() for v in response.headers.get_list("vary") for n in v.split(",")}
    return "accept" in names or "*" in names

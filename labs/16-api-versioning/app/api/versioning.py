"""What tells clients which version they get, and for how long v1 stays.

- Deprecation (RFC 9745), Sunset (RFC 8594) and a Link with rel="deprecation" on /v1
  answers.
- ETags (RFC 9110 s8.8.3) for caching and If-Match.
- Content negotiation (RFC 9110 s12.5.1) for the unversioned /books.
"""

from datetime import UTC, datetime
from email.utils import format_datetime

from app.models import Book

# v1 was deprecated when v2 shipped, and is switched off a year later.
DEPRECATED_AT = datetime(2026, 6, 1, tzinfo=UTC)
SUNSET_AT = datetime(2027, 6, 1, tzinfo=UTC)
MIGRATION_GUIDE = "https://folio.example/docs/migrate/v2"

V1_HEADERS = {
    # An HTTP-date (RFC 9110 s5.6.7): "Tue, 01 Jun 2027 00:00:00 GMT".
    "Sunset": format_datetime(SUNSET_AT, usegmt=True),
    "Link": f'<{MIGRATION_GUIDE}>; rel="deprecation"; type="text/html"',
}


# ---------------------------------------------------------------- ETags


def etag(book: Book, version: str) -> str:
    """A strong ETag for the book as it is now (`version`: "v1" or "v2", unused)."""
    return f'"{book.id}.{book.version}"'


def if_match_version(header: str, book_id: int) -> int | None:
    """The row version an If-Match of our v2 ETags names, or None if it names none."""
    for tag in (t.strip() for t in header.split(",")):
        parts = tag.strip('"').split(".")
        if (
            tag.startswith('"') and tag.endswith('"') and len(parts) == 2
            and parts[0] == str(book_id) and parts[1].isdigit()
        ):  # fmt: skip
            return int(parts[1])
    return None


def none_match(header: str | None, current: str) -> bool:
    """If-None-Match (RFC 9110 s13.1.2): true if the client already has `current`."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return current.removeprefix("W/") in tags


# ---------------------------------------------------------------- negotiation

V2_TYPE = "application/vnd.folio.book.v2+json"
V1_TYPES = ("application/json", "application/vnd.folio.book.v1+json")


def negotiate(accept: str | None) -> str | None:
    """ "v1", "v2", or None (nothing acceptable: 406)."""
    # TODO: clients that prefer v1 (`...v2+json;q=0.1, application/json`) get v2, XML
    # clients get JSON they can't read, and a cache in front of us mixes the versions up.
    if accept and "v2" in accept:
        return "v2"
    return "v1"

"""What tells clients which version they get, and for how long v1 stays.

- Deprecation (RFC 9745), Sunset (RFC 8594) and a Link with rel="deprecation" on every
  /v1 answer, errors included: a client's error path is where it looks for clues.
- Strong ETags per representation (RFC 9110 s8.8.3): v1's and v2's bodies differ, so
  their tags must too.
- Content negotiation (RFC 9110 s12.5.1) for the unversioned /books.
"""

from datetime import UTC, datetime
from email.utils import format_datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.models import Book

# v1 was deprecated when v2 shipped, and is switched off a year later.
DEPRECATED_AT = datetime(2026, 6, 1, tzinfo=UTC)
SUNSET_AT = datetime(2027, 6, 1, tzinfo=UTC)
MIGRATION_GUIDE = "https://folio.example/docs/migrate/v2"

V1_HEADERS = {
    # A structured-field Date (RFC 9651): "@" and seconds since the epoch.
    "Deprecation": f"@{int(DEPRECATED_AT.timestamp())}",
    # An HTTP-date (RFC 9110 s5.6.7): "Tue, 01 Jun 2027 00:00:00 GMT".
    "Sunset": format_datetime(SUNSET_AT, usegmt=True),
    "Link": f'<{MIGRATION_GUIDE}>; rel="deprecation"; type="text/html"',
}


class DeprecationHeaders:
    """ASGI middleware: adds V1_HEADERS to every answer under /v1, whatever produced
    it (a route, a 404 from routing, a 422 from validation)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == "/v1" or path.startswith("/v1/")):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(k.lower().encode(), v.encode()) for k, v in V1_HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


# ---------------------------------------------------------------- ETags


def etag(book: Book, version: str) -> str:
    """A strong ETag for one representation ("v1" or "v2") of the book as it is now."""
    return f'"{book.id}.{book.version}.{version}"'


def if_match_version(header: str, book_id: int) -> int | None:
    """The row version an If-Match of our v2 ETags names, or None if it names none."""
    for tag in (t.strip() for t in header.split(",")):
        parts = tag.strip('"').split(".")
        if (
            tag.startswith('"') and tag.endswith('"') and len(parts) == 3
            and parts[0] == str(book_id) and parts[1].isdigit() and parts[2] == "v2"
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


def _ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media:
            ranges.append((media.lower(), q))
    return ranges


def _quality(media_type: str, ranges: list[tuple[str, float]]) -> float:
    """The q of the most specific range matching `media_type` (RFC 9110 s12.5.1)."""
    kind = media_type.split("/")[0]
    best: tuple[int, float] | None = None
    for media, q in ranges:
        if media == media_type:
            specificity = 3
        elif media == f"{kind}/*":
            specificity = 2
        elif media == "*/*":
            specificity = 1
        else:
            continue
        if best is None or specificity > best[0]:
            best = (specificity, q)
    return best[1] if best else 0.0


def negotiate(accept: str | None) -> str | None:
    """The version to answer, "v1" or "v2", or None (nothing acceptable: 406). No Accept means anything: v1,
    which is what clients written before v2 expect."""
    if not accept or not accept.strip():
        return "v1"
    ranges = _ranges(accept)
    v1 = max(_quality(t, ranges) for t in V1_TYPES)
    v2 = _quality(V2_TYPE, ranges)
    if v1 <= 0 and v2 <= 0:
        return None
    return "v2" if v2 > v1 else "v1"

"""Fetching a book's cover from the cover host (COVERS_PROVIDER_URL), for staff.

The back office pastes a URL; the service downloads the image and keeps it, so the
storefront never hot-links a third party. The service fetches that URL from inside
Folio's network, where it can reach what no customer can: that is why the README says
exactly which URLs it may fetch.

OWASP SSRF Prevention, case 1: the service talks to one known host, so allow exactly
that origin (scheme, host, port), parsed by the same parser that fetches (a second
parser can read `http://a@b/` differently), and never follow a redirect (it could point
anywhere). Then trust nothing the host sends: at most MAX_BYTES, read as a stream, and
an image only if its first bytes say so.
"""

import httpx
from fastapi import HTTPException

from app.core.config import settings

MAX_BYTES = 5 * 1024 * 1024
DEFAULT_PORTS = {"http": 80, "https": 443}
# File signatures (magic bytes): what the content is, whatever its name or type says.
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or DEFAULT_PORTS.get(url.scheme)


COVER_HOST = _origin(httpx.URL(str(settings.COVERS_PROVIDER_URL)))


def refused(detail: str) -> HTTPException:
    return HTTPException(422, detail=f"This cover URL is not allowed: {detail}")


def image_type(data: bytes) -> str | None:
    for signature, content_type in SIGNATURES:
        if data.startswith(signature):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def fetch_cover(url: str) -> tuple[bytes, str]:
    """The bytes and content type at `url`, or an HTTPException: 422 for a URL we won't
    fetch, 502 when the cover host fails, 413 too large, 415 not an image."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise refused("it is not a valid URL.") from None
    if parsed.userinfo or _origin(parsed) != COVER_HOST:
        raise refused("covers come only from the cover host.")
    data = bytearray()
    try:
        with httpx.stream("GET", parsed, follow_redirects=False, timeout=3) as response:
            if response.status_code != 200:
                raise HTTPException(502, detail=f"The cover host answered {response.status_code}.")
            if int(response.headers.get("content-length") or 0) > MAX_BYTES:
                raise HTTPException(413, detail="A cover is at most 5 MB.")
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > MAX_BYTES:
                    raise HTTPException(413, detail="A cover is at most 5 MB.")
    except httpx.HTTPError as exc:
        raise HTTPException(
            502, detail=f"The cover host did not answer: {type(exc).__name__}."
        ) from None
    content_type = image_type(bytes(data))
    if content_type is None:
        raise HTTPException(415, detail="A cover must be a PNG, JPEG or WebP image.")
    return bytes(data), content_type

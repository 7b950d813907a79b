"""Fetching a book's cover from the cover host (COVERS_PROVIDER_URL), for staff.

The back office pastes a URL; the service downloads the image and keeps it, so the
storefront never hot-links a third party. The service fetches that URL from inside
Folio's network, where it can reach what no customer can: that is why the README says
exactly which URLs it may fetch.
"""

from urllib.parse import urlsplit

import httpx
from fastapi import HTTPException

# TODO: staff (or anyone who steals a staff session) can make the service fetch
# http://127.0.0.1:<another port>/, the cloud's metadata address in disguise, or a cover
# host URL that redirects to either: the service calls whatever it is pointed at.
BLOCKED_HOSTS = {"localhost", "0.0.0.0", "169.254.169.254", "metadata.google.internal"}


def refused(detail: str) -> HTTPException:
    return HTTPException(422, detail=f"This cover URL is not allowed: {detail}")


def fetch_cover(url: str) -> tuple[bytes, str]:
    """The bytes and content type at `url`, or an HTTPException: 422 for a URL we won't
    fetch, 502 when the cover host fails."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        raise refused("it is not a valid URL.") from None
    if not host or host in BLOCKED_HOSTS:
        raise refused("it points inside our network.")
    try:
        response = httpx.get(url, follow_redirects=True, timeout=3)
    except httpx.HTTPError as exc:
        raise HTTPException(
            502, detail=f"The cover host did not answer: {type(exc).__name__}."
        ) from None
    if response.status_code != 200:
        raise HTTPException(502, detail=f"The cover host answered {response.status_code}.")
    # TODO (bonus): a 50 MB "cover", or a web page named cover.jpg, is stored as it is.
    content_type = response.headers.get("content-type", "application/octet-stream")
    return response.content, content_type.split(";")[0].strip()

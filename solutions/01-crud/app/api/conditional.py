"""Conditional requests (RFC 9110, section 13): ETag, If-None-Match, If-Match."""

import hashlib

from pydantic import BaseModel


def etag_of(representation: BaseModel) -> str:
    # A strong validator with no extra column: a hash of what the client receives
    # changes exactly when that representation does.
    digest = hashlib.sha256(representation.model_dump_json().encode()).hexdigest()
    return f'"{digest[:32]}"'


def if_none_match_hits(header: str, etag: str) -> bool:
    # Weak comparison (section 13.1.2): W/"x" and "x" name the same content for a GET.
    tags = {tag.removeprefix("W/") for tag in _listed(header)}
    return "*" in tags or etag.removeprefix("W/") in tags


def if_match_holds(header: str, etag: str) -> bool:
    # Strong comparison (section 13.1.1): a write must start from exactly this version.
    tags = _listed(header)
    return "*" in tags or (not etag.startswith("W/") and etag in tags)


def _listed(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",")]

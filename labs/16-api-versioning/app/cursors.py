"""v2's opaque cursors: where the next page starts, as a token the client hands back."""

import base64
import binascii


class BadCursor(ValueError):
    pass


def encode(offset: int) -> str:
    # TODO: walking the pages while books are added or deleted skips some books and
    # shows others twice; and a client can edit the cursor to jump anywhere.
    return base64.urlsafe_b64encode(str(offset).encode()).decode()


def decode(cursor: str) -> int:
    try:
        offset = int(base64.urlsafe_b64decode(cursor))
    except (binascii.Error, ValueError) as exc:
        raise BadCursor("This cursor cannot be read.") from exc
    if offset < 0:
        raise BadCursor("This cursor cannot be read.")
    return offset

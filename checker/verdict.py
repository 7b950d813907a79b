"""How a hidden check says *why* it failed: a failure kind beside the message.

A plain ``assert cond, "message"`` still works (its kind is ``""``, the check's default
hint applies). A check that can fail for several reasons names the reason, so the report
and ``lab hint`` show the hint for the mistake the learner actually made (lab.toml maps
kinds to hints), never one about a mistake already fixed::

    from checker.verdict import expect, fail

    expect(r.status_code == 201, "wrong-status", f"expected 201 Created, got {r.status_code}")
    if "location" not in r.headers:
        fail("no-location", "the 201 answer has no Location header")

Kinds are short kebab-case words, stable across releases (hints and the gradebook's
failure groups key on them). ``CheckFailed`` is an ``AssertionError``, so it behaves like
a failed assert everywhere else.
"""

from __future__ import annotations

import re
from typing import NoReturn

_KIND = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class CheckFailed(AssertionError):
    """A check's failure, with its kind (``""``: unspecified)."""

    def __init__(self, kind: str, message: str) -> None:
        if kind and not _KIND.match(kind):
            raise ValueError(f"failure kind {kind!r} is not kebab-case")
        super().__init__(message)
        self.kind = kind
        self.message = message


def fail(kind: str, message: str) -> NoReturn:
    """Fail the running check for the reason ``kind``."""
    raise CheckFailed(kind, message)


def expect(condition: object, kind: str, message: str) -> None:
    """``fail(kind, message)`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailed(kind, message)

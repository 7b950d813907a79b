"""Every error the checker raises on purpose, in one place.

Each carries the exit code the command line answers with (see DESIGN.md): 2 when a run
could not be judged (services unreachable, a workspace that cannot be composed), 3 for
a usage mistake (an unknown lab, a malformed manifest, a bad option).
"""

from __future__ import annotations


class LabError(Exception):
    """Base of the checker's own errors. ``str(err)`` is written for the user."""

    exit_code = 2

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class UsageError(LabError):
    """The user asked for something that cannot be: exit 3."""

    exit_code = 3


class UnknownLab(UsageError):
    def __init__(self, lab_id: str, known: list[str]) -> None:
        import difflib

        listing = ", ".join(known) if known else "(none found)"
        close = difflib.get_close_matches(lab_id, known, n=1)
        guess = f" Did you mean {close[0]!r}?" if close else ""
        super().__init__(f"There is no lab called {lab_id!r}.{guess} Labs: {listing}.")
        self.lab_id = lab_id
        self.known = known


class ManifestError(UsageError):
    """A lab.toml that does not follow the format: names the file and the field."""

    def __init__(self, path: object, field: str | None, problem: str) -> None:
        where = f"{path}" + (f", field {field!r}" if field else "")
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.field = field
        self.problem = problem


class CourseNotFound(UsageError):
    pass


class WorkspaceError(UsageError):
    pass


class ServiceError(LabError):
    """PostgreSQL or Redis could not be provided: the run cannot be judged (exit 2)."""


class ServiceUnavailable(ServiceError):
    pass


class StatementsUnavailable(LabError):
    """pg_stat_statements cannot be read on this server; the message says how to enable it
    (hidden checks that need it are skipped with that message)."""

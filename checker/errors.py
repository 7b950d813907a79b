"""Every error the checker raises on purpose, and every way a run can end unjudged,
in one place (httpx's ``_exceptions.py`` is the model).

The hierarchy::

    LabError                      exit 2 unless said otherwise; str() is for the user
    ├── UsageError                exit 3: the user asked for something that cannot be
    │   ├── UnknownLab
    │   ├── ManifestError
    │   ├── CourseNotFound
    │   └── WorkspaceError
    ├── ServiceError              PostgreSQL, Redis or a sidecar could not be provided
    │   └── ServiceUnavailable
    ├── StatementsUnavailable     pg_stat_statements cannot be read (checks skip)
    └── RunFailed                 a run ended without a verdict: carries a RunErrorKind
        └── StartFailed           the learner's service or worker never became ready

``RunErrorKind`` is the closed list of ``error.kind`` values of a result (the JSON
contract, DESIGN.md): compare with its members, never with a prefix of a string.

This module imports nothing of the checker: anything may import it (observe/ too).
"""

from __future__ import annotations

from enum import StrEnum


class RunErrorKind(StrEnum):
    """Why a run (or a graded submission) has no verdict: ``result.error.kind``."""

    # the learner's processes
    SERVICE_START_FAILED = "service_start_failed"  # exited during start-up
    SERVICE_UNHEALTHY = "service_unhealthy"  # never answered its health path in time
    SERVICE_CRASHED = "service_crashed"  # stopped while the checks ran
    LOG_FLOOD = "log_flood"  # wrote more log than the limit
    WORKER_START_FAILED = "worker_start_failed"
    WORKER_UNREADY = "worker_unready"
    MIGRATIONS_FAILED = "migrations_failed"
    MEMORY_LIMIT = "memory_limit"  # learner code hit the sandbox's memory limit
    PROCESS_LIMIT = "process_limit"  # ... its process/thread limit
    CPU_LIMIT = "cpu_limit"  # ... its CPU-time limit
    DATABASE_LOST = "database_lost"  # the run's PostgreSQL stopped answering mid-run
    REDIS_LOST = "redis_lost"  # the run's Redis stopped answering mid-run
    CHECKS_CHANGED = "checks_changed"  # the checker or hidden checks changed during the run
    # the run itself
    SERVICES_UNAVAILABLE = "services_unavailable"  # PostgreSQL, Redis or a sidecar
    TIMEOUT = "timeout"  # the checks did not finish in time
    CHECKS_CRASHED = "checks_crashed"  # the hidden checks' process failed (our bug)
    INTERRUPTED = "interrupted"
    # grading (checker.grading): a submission that could not be run at all
    NOT_SUBMITTED = "not_submitted"
    CLONE_FAILED = "clone_failed"
    BAD_SUBMISSION = "bad_submission"
    GRADER_CRASHED = "grader_crashed"
    GRADER_LOST = "grader_lost"

    @property
    def service_not_started(self) -> bool:
        """The checks left unrun were skipped because the service was not there."""
        return self in _NOT_STARTED

    @property
    def shows_service_log(self) -> bool:
        """The service's log tail explains it (a hang, a crash of the checks)."""
        return self in (RunErrorKind.TIMEOUT, RunErrorKind.CHECKS_CRASHED)


_NOT_STARTED = frozenset({
    RunErrorKind.SERVICE_START_FAILED, RunErrorKind.SERVICE_UNHEALTHY,
    RunErrorKind.SERVICE_CRASHED, RunErrorKind.SERVICES_UNAVAILABLE,
})  # fmt: skip


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


class RunFailed(LabError):
    """A run that ended without a verdict; becomes ``result.error`` (a ``RunError``)."""

    def __init__(self, kind: RunErrorKind | str, message: str, log_tail: str = "") -> None:
        super().__init__(message, detail=log_tail or None)
        self.kind = RunErrorKind(kind)  # an unknown kind is a bug: ValueError
        self.log_tail = log_tail


class StartFailed(RunFailed):
    """The learner's service (or worker) never became ready; ``log_tail`` shows why."""

"""Calling providers that have bad days: retries with jittered backoff in a time budget,
a circuit breaker, and a bulkhead. Policy numbers: app/core/config.py (`policy`).

- Retry only what is safe to repeat: a read (GET, RFC 9110 section 9.2.2), or a write
  the provider deduplicates by its Idempotency-Key. Retry only failures that may pass:
  timeouts, 5xx, 429. A 4xx would fail the same way again.
- Back off with jitter (AWS Builders' Library, "Timeouts, retries, and backoff with
  jitter"): clients that failed together must not come back together.
- A circuit breaker (Nygard, Release It!) stops calling a provider that keeps failing,
  answers at once instead, and lets one trial call through when it is time to look again.
- A bulkhead caps the calls in flight to one provider, so a slow one ties up a few of our
  threads, never all of them.
"""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from math import ceil
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

from app.core.config import policy
from app.providers.errors import ProviderError, ProviderTimeout, ProviderUnavailable

T = TypeVar("T")
Attempt = Callable[[float], T]  # called with the deadline (time.monotonic()) it must keep

TRANSIENT = (ProviderTimeout, ProviderUnavailable)


def retrying(attempt: Attempt[T]) -> T:
    """`attempt(deadline)` until it succeeds, with tenacity: at most policy.max_attempts
    calls, no wait that would end past the budget, full jitter, Retry-After as a floor."""
    deadline = time.monotonic() + policy.budget_s
    jitter = wait_random_exponential(multiplier=policy.backoff_base_s)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        return max(jitter(state), getattr(exc, "retry_after", None) or 0)

    for try_ in Retrying(
        stop=stop_after_attempt(policy.max_attempts) | stop_before_delay(policy.budget_s),
        wait=wait,
        retry=retry_if_exception_type(TRANSIENT),
        reraise=True,
    ):
        with try_:
            result = attempt(deadline)
    return result


def once(attempt: Attempt[T]) -> T:
    """One call and no retry: for a call the provider cannot tell from a new one."""
    return attempt(time.monotonic() + policy.attempt_timeout_s)


class CircuitBreaker:
    """Closed: calls go through, and consecutive failures are counted. After
    `failures` of them, open: calls fail at once (503 + Retry-After) for `open_s`
    seconds. Then half-open: one trial call goes through while the others still fail
    at once; its success closes the breaker, its failure opens it again."""

    def __init__(self, name: str, *, failures: int, open_s: int) -> None:
        self.name, self.failures, self.open_s = name, failures, open_s
        self._lock = threading.Lock()
        self._failed = 0
        self._opened_at: float | None = None
        self._trial = False  # a trial call is in flight

    def call(self, fn: Callable[..., T], *args, **kwargs) -> T:
        trial = self._admit()
        try:
            result = fn(*args, **kwargs)
        except TRANSIENT:
            self._record(ok=False, trial=trial)
            raise
        except ProviderError:
            self._record(ok=True, trial=trial)  # it answered (a 4xx): it is up
            raise
        except BaseException:
            self._record(ok=False, trial=trial)
            raise
        self._record(ok=True, trial=trial)
        return result

    def _admit(self) -> bool:
        """Lets a call through (True if it is the trial), or raises."""
        with self._lock:
            if self._opened_at is None:
                return False
            left = self._opened_at + self.open_s - time.monotonic()
            if left <= 0 and not self._trial:
                self._trial = True  # half-open: this call is the trial
                return True
        raise ProviderUnavailable(
            self.name, "is failing: we stopped calling it for now", retry_after=max(1, ceil(left))
        )

    def _record(self, *, ok: bool, trial: bool) -> None:
        with self._lock:
            if trial:
                self._trial = False
            if ok:
                self._failed, self._opened_at = 0, None
                return
            self._failed += 1
            if self._opened_at is not None or self._failed >= self.failures:
                self._opened_at = time.monotonic()  # open, or open again after a trial


class Bulkhead:
    """At most `limit` calls in flight; one more fails at once (503 + Retry-After)
    instead of waiting for a slot while it holds one of our threads."""

    def __init__(self, name: str, *, limit: int) -> None:
        self.name = name
        self._slots = threading.BoundedSemaphore(limit)

    @contextmanager
    def slot(self) -> Iterator[None]:
        if not self._slots.acquire(blocking=False):
            raise ProviderUnavailable(self.name, "is busy: too many calls in flight", retry_after=1)
        try:
            yield
        finally:
            self._slots.release()

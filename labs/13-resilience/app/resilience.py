"""Trying again when a provider fails."""

import functools
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from app.providers.errors import ProviderError

P = ParamSpec("P")
T = TypeVar("T")


def retry_on_failure(call: Callable[P, T]) -> Callable[P, T]:
    """Calls `call` again when it fails: three attempts in all, backing off 0.2 s, then
    0.4 s, so a provider's hiccup does not fail the customer's request."""

    @functools.wraps(call)
    def with_retries(*args: P.args, **kwargs: P.kwargs) -> T:
        for attempt in range(3):
            try:
                return call(*args, **kwargs)
            except ProviderError:
                if attempt == 2:
                    raise
                # TODO: after a provider's bad second, every customer's retry arrives
                # at the same instant, and the provider falls over again.
                time.sleep(0.2 * 2**attempt)
        raise AssertionError("unreachable")

    return with_retries

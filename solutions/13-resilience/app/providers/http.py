"""One HTTP client per provider, and `send`: one call, its failure named."""

import time
from email.utils import parsedate_to_datetime

import httpx

from app.core.config import policy, settings
from app.providers.errors import ProviderRejected, ProviderTimeout, ProviderUnavailable

# One client per provider, so connections are reused from call to call.
shipping = httpx.Client(base_url=str(settings.SHIPPING_PROVIDER_URL))
payments = httpx.Client(base_url=str(settings.PAYMENTS_PROVIDER_URL))
warehouse = httpx.Client(base_url=str(settings.WAREHOUSE_PROVIDER_URL))


def send(
    provider: str, client: httpx.Client, method: str, url: str, *, deadline: float, **kwargs
) -> httpx.Response:
    """One call to a provider, given up at `deadline` (time.monotonic()) at the latest:
    its response if it succeeded, else the ProviderError that says what happened."""
    # Every phase of the call (connect, write, each read) is bounded: a provider that
    # accepts and never answers costs one attempt, never a request stuck forever.
    timeout = min(policy.attempt_timeout_s, deadline - time.monotonic())
    try:
        response = client.request(method, url, timeout=timeout, **kwargs)
    except httpx.TimeoutException as exc:
        raise ProviderTimeout(provider, "did not answer in time") from exc
    except httpx.TransportError as exc:
        raise ProviderUnavailable(provider, f"could not be reached ({type(exc).__name__})") from exc
    if response.status_code >= 500 or response.status_code == 429:
        raise ProviderUnavailable(
            provider,
            f"answered {response.status_code}",
            retry_after=retry_after(response.headers.get("Retry-After")),
        )
    if response.is_error:
        raise ProviderRejected(provider, f"refused the call ({response.status_code})")
    return response


def retry_after(value: str | None) -> int | None:
    """RFC 9110 section 10.2.3: delta-seconds, or an HTTP date."""
    if value is None:
        return None
    if value.strip().isdigit():
        return int(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0, round(when.timestamp() - time.time()))

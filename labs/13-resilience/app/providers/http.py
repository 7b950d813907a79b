"""One HTTP client per provider, and `send`: one call, its failure named."""

import httpx

from app.core.config import settings
from app.providers.errors import ProviderRejected, ProviderTimeout, ProviderUnavailable

# One client per provider, so connections are reused from call to call.
# TODO: when the shipping provider stops answering, our pages stop answering too, forever.
shipping = httpx.Client(base_url=str(settings.SHIPPING_PROVIDER_URL), timeout=None)
payments = httpx.Client(base_url=str(settings.PAYMENTS_PROVIDER_URL), timeout=None)
warehouse = httpx.Client(base_url=str(settings.WAREHOUSE_PROVIDER_URL), timeout=None)


def send(provider: str, client: httpx.Client, method: str, url: str, **kwargs) -> httpx.Response:
    """One call to a provider: its response if it succeeded, else the ProviderError that
    says what happened."""
    try:
        response = client.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        raise ProviderTimeout(provider, "did not answer in time") from exc
    except httpx.TransportError as exc:
        raise ProviderUnavailable(provider, f"could not be reached ({type(exc).__name__})") from exc
    if response.status_code >= 500 or response.status_code == 429:
        raise ProviderUnavailable(provider, f"answered {response.status_code}")
    if response.is_error:
        raise ProviderRejected(provider, f"refused the call ({response.status_code})")
    return response

"""What can go wrong when we call a provider, and what our client is told then."""


class ProviderError(Exception):
    """A provider failed us. `status` is what our own client gets (see api/errors.py)."""

    status = 502

    def __init__(self, provider: str, detail: str, *, retry_after: int | None = None) -> None:
        super().__init__(f"The {provider} provider {detail}.")
        self.provider = provider
        self.retry_after = retry_after  # seconds, when we know how long to wait


class ProviderTimeout(ProviderError):
    """It did not answer in time: whether it did the work is unknown."""

    status = 504


class ProviderUnavailable(ProviderError):
    """It said it cannot serve us now (5xx, 429), could not be reached, or we are not
    calling it for now."""

    status = 503


class ProviderRejected(ProviderError):
    """It refused the call itself (4xx): trying again would get the same answer."""

    status = 502

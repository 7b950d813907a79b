from dataclasses import dataclass

from pydantic import AnyHttpUrl, PostgresDsn
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore")

    # No defaults on purpose: a service that quietly falls back to some shared database,
    # or to a real provider, is how test orders end up charged and shipped for real.
    DATABASE_URL: PostgresDsn
    SHIPPING_PROVIDER_URL: AnyHttpUrl
    PAYMENTS_PROVIDER_URL: AnyHttpUrl
    WAREHOUSE_PROVIDER_URL: AnyHttpUrl


@dataclass(frozen=True)
class Policy:
    """How we treat providers: the contract the README documents, in one place.

    Not read from the environment: these numbers are a promise to the rest of the
    system (a caller's own timeouts are set from them), not a knob. They are small so
    that a provider's bad day can be replayed in seconds; production values are
    typically a few times larger, in the same proportions."""

    attempt_timeout_s: float = 0.5  # one call to a provider, at most
    max_attempts: int = 3  # the first call and two retries
    budget_s: float = 1.0  # every attempt and every wait of one request, together
    backoff_base_s: float = 0.2  # the wait before retry n is drawn below base * 2**n
    breaker_failures: int = 5  # consecutive failed calls that open the breaker
    breaker_open_s: int = 1  # how long it stays open (whole seconds: Retry-After)
    shipping_max_in_flight: int = 10  # calls to the shipping provider at once


settings = Settings()  # type: ignore[call-arg]  # read from the environment
policy = Policy()

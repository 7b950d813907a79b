from pydantic import AnyHttpUrl, PostgresDsn, RedisDsn
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore")

    # No defaults on purpose: a service that quietly falls back to some shared database,
    # or to a real payment provider, is how test payments end up on real cards.
    DATABASE_URL: PostgresDsn
    REDIS_URL: RedisDsn
    PAYMENTS_PROVIDER_URL: AnyHttpUrl

    # Who may call us, by API key. These two are for development and `lab check`; a
    # real deployment reads its keys from a secret store.
    API_KEYS: dict[str, str] = {"sk_test_bookshop": "bookshop", "sk_test_mobile": "mobile"}

    # How long an Idempotency-Key is remembered: long enough for any client's retries.
    IDEMPOTENCY_TTL_SECONDS: int = 24 * 60 * 60
    # How long we wait for the payment provider before giving up on a call.
    PROVIDER_TIMEOUT_SECONDS: float = 2.0


settings = Settings()  # type: ignore[call-arg]  # read from the environment

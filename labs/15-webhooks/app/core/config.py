from pydantic import AnyHttpUrl, PostgresDsn, RedisDsn
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore")

    # No defaults on purpose: `lab check` and `lab notebook` set them all.
    DATABASE_URL: PostgresDsn
    REDIS_URL: RedisDsn
    EMAIL_PROVIDER_URL: AnyHttpUrl  # the email provider's API (a sink, under `lab check`)
    # The payment provider signs the events it sends us with this secret (Standard
    # Webhooks: "whsec_" and base64 of the key). Its dashboard shows it; so does lab.toml.
    PAYMENTS_WEBHOOK_SECRET: str

    # Seconds to wait before each new attempt at a delivery that failed: after the first
    # attempt, then one more per entry. Standard Webhooks' schedule; `lab check` sets a
    # compressed one (lab.toml [env]), so a check does not wait for hours.
    WEBHOOK_RETRY_SCHEDULE: list[float] = [5, 300, 1800, 7200, 18000, 36000, 36000]
    # An endpoint whose every attempt failed for this many messages in a row is disabled.
    WEBHOOK_DISABLE_AFTER: int = 3
    # Seconds a merchant's endpoint has to answer one delivery.
    WEBHOOK_TIMEOUT_SECONDS: float = 5.0
    # After a secret is rotated, the old one still signs (beside the new one) this long.
    WEBHOOK_SECRET_OVERLAP_SECONDS: int = 24 * 3600


settings = Settings()  # type: ignore[call-arg]  # read from the environment

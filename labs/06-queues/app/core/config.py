from pydantic import AnyHttpUrl, PostgresDsn, RedisDsn
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore")

    # No defaults on purpose: `lab check` and `lab notebook` set them all.
    DATABASE_URL: PostgresDsn
    REDIS_URL: RedisDsn
    EMAIL_PROVIDER_URL: AnyHttpUrl  # the email provider's API (a sink, under `lab check`)

    # Rendering and storing a report file: the slow part of an export.
    REPORT_RENDER_SECONDS: float = 1.0
    # Seconds to wait before each new attempt at sending an email.
    EMAIL_RETRY_INTERVALS: list[int] = [1, 2, 4]


settings = Settings()  # type: ignore[call-arg]  # read from the environment

from pydantic import AnyHttpUrl, PostgresDsn, RedisDsn
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore")

    # No defaults on purpose: a service that quietly falls back to some shared database,
    # or to a real provider, is how test orders end up charged for real.
    DATABASE_URL: PostgresDsn
    REDIS_URL: RedisDsn
    PAYMENTS_PROVIDER_URL: AnyHttpUrl

    # Where our spans go (OTLP/HTTP); the OpenTelemetry SDK reads it itself. None: nowhere.
    OTEL_EXPORTER_OTLP_ENDPOINT: AnyHttpUrl | None = None

    LOG_LEVEL: str = "INFO"
    SESSION_TTL_SECONDS: int = 3600


settings = Settings()  # type: ignore[call-arg]  # read from the environment

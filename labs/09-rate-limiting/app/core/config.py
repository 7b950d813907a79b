from pydantic import PostgresDsn, RedisDsn
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore")

    # No defaults on purpose: a service that quietly falls back to some shared database
    # counts its callers somewhere nobody looks.
    DATABASE_URL: PostgresDsn
    REDIS_URL: RedisDsn

    # The policy partners agreed to: 10 searches per 5 seconds, per API key.
    RATE_LIMIT_QUOTA: int = 10
    RATE_LIMIT_WINDOW_SECONDS: int = 5

    # How long a search waits for Redis before it gives up and serves the search anyway.
    REDIS_TIMEOUT_SECONDS: float = 0.25


settings = Settings()  # type: ignore[call-arg]  # read from the environment

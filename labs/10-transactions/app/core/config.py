from pydantic import PostgresDsn
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore")

    # No default on purpose: a service that quietly falls back to some shared database
    # is how test orders end up in the real shop.
    DATABASE_URL: PostgresDsn

    # The longest a request may wait for a row another transaction holds (the README
    # promises it): past it, the client gets 503 and Retry-After instead of a hang.
    LOCK_TIMEOUT_SECONDS: int = 3


settings = Settings()  # type: ignore[call-arg]  # read from the environment

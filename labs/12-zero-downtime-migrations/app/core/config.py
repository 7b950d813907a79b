from pydantic import PostgresDsn
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore")

    # No default on purpose: a service that quietly falls back to some shared database
    # is how test data ends up in production. `lab check` and `lab notebook` set it.
    DATABASE_URL: PostgresDsn


settings = Settings()  # type: ignore[call-arg]  # read from the environment

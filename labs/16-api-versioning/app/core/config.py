from pydantic import PostgresDsn
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore")

    # No default on purpose: a service that quietly falls back to some shared database
    # is how test books end up in the real catalog.
    DATABASE_URL: PostgresDsn

    # Signs v2's cursors. Set your own in production (any long random string).
    CURSOR_SECRET: str = "folio-dev-cursor-secret-change-me"


settings = Settings()  # type: ignore[call-arg]  # read from the environment

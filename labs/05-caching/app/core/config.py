from pydantic import PostgresDsn, RedisDsn
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore")

    # No defaults on purpose: `lab check` and `lab notebook` set both.
    DATABASE_URL: PostgresDsn
    REDIS_URL: RedisDsn

    # How long a cached answer may be served before it is computed again. The README
    # promises readers that nothing they see is older than this.
    CACHE_TTL_SECONDS: int = 300


settings = Settings()  # type: ignore[call-arg]  # read from the environment

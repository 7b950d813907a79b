from pathlib import Path
from typing import Literal, Self

from pydantic import PostgresDsn, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The key pair in keys/ is for development and `lab check` only: it is in the repository,
# so anyone can sign tokens with it. Production gets its own key, from a secret store.
DEV_PRIVATE_KEY_FILE = Path("keys/dev-private.pem")
DEV_PUBLIC_KEY_FILE = Path("keys/dev-public.pem")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore")

    ENVIRONMENT: Literal["development", "production"] = "development"
    # No default on purpose: a service that quietly falls back to some shared database
    # is how test data ends up in production. `lab check` and `lab notebook` set it.
    DATABASE_URL: PostgresDsn

    # Access tokens are signed with a private key (EdDSA, Ed25519) and verified with the
    # public one, so other services can verify them without being able to mint them.
    JWT_PRIVATE_KEY_FILE: Path = DEV_PRIVATE_KEY_FILE
    JWT_PUBLIC_KEY_FILE: Path = DEV_PUBLIC_KEY_FILE
    JWT_ISSUER: str = "folio-auth"
    JWT_AUDIENCE: str = "folio-api"
    ACCESS_TOKEN_MINUTES: int = 15
    REFRESH_TOKEN_DAYS: int = 14

    @model_validator(mode="after")
    def _no_dev_key_in_production(self) -> Self:
        if self.ENVIRONMENT == "production" and self.JWT_PRIVATE_KEY_FILE == DEV_PRIVATE_KEY_FILE:
            raise ValueError("the development key pair must not sign production tokens")
        return self


settings = Settings()  # type: ignore[call-arg]  # read from the environment

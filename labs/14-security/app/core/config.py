from pathlib import Path

from pydantic import AnyHttpUrl, PostgresDsn
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore")

    # No defaults on purpose: a service that quietly falls back to some shared database
    # is how test data ends up in the real shop.
    DATABASE_URL: PostgresDsn
    # The cover host: the one place covers are fetched from (README, "Covers").
    COVERS_PROVIDER_URL: AnyHttpUrl
    # Invoices and e-books customers may download; relative to the service's folder.
    DOWNLOADS_DIR: Path = Path("files")
    # The storefront, the one web origin that calls this API from a browser.
    STOREFRONT_ORIGIN: str = "https://shop.folio.test"


settings = Settings()  # type: ignore[call-arg]  # read from the environment

"""The one settings object: every `THIDUA_*` environment variable is read here and only here."""

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Service configuration; the defaults run everything embedded (SQLite, local files)."""

    model_config = SettingsConfigDict(env_prefix="THIDUA_", env_file=".env", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str | None = None

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'thidua.db').resolve()}"


@lru_cache
def get_settings() -> Settings:
    return Settings()

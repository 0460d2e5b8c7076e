"""The one settings object: every `THIDUA_*` environment variable is read here and only here."""

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class CollectSource(BaseModel):
    """An online form's export that `collect_submissions` reads: one row per unit submission."""

    url: str
    format: Literal["json", "csv"] = "json"
    year: int
    deadline: str  # the deadline code the rows are for
    unit_field: str = "ma_don_vi"  # the column holding the unit's code
    time_field: str | None = None  # a column with an ISO time with offset, if the form gives one


class Settings(BaseSettings):
    """Service configuration; the defaults run everything embedded (SQLite, local files)."""

    model_config = SettingsConfigDict(env_prefix="THIDUA_", env_file=".env", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str | None = None
    public_url: str = "http://127.0.0.1:8000"  # how units reach the portal and the feeds
    secret_key: SecretStr | None = None  # signs private links; default: data_dir/secret.key
    calendar_dir: Path | None = None  # also write the feeds here as static files
    feed_refresh_seconds: float = 2.0  # how soon the web app serves a newly published feed
    smtp_url: str | None = None  # unset: emails are written as .eml files to outbox_dir
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_password_block: str | None = None  # or: the name of a Prefect Secret block
    smtp_connections: int = 4
    mail_from: str = "Khối thi đua <no-reply@thidua.invalid>"
    mail_reply_to: str | None = None
    outbox_dir: Path | None = None  # default: data_dir/outbox
    max_upload_bytes: int = 20_000_000  # per file
    max_request_bytes: int = 50_000_000  # a whole request: every file and field of one form
    collect_sources: list[CollectSource] = []  # JSON in THIDUA_COLLECT_SOURCES
    admin_session_hours: float = Field(default=8.0, gt=0, le=24 * 30)  # a /quan-tri sign-in lasts
    # Retired (HTTP Basic for /quan-tri, replaced by `thidua admin add`): read only to warn.
    admin_user: str | None = None
    admin_password: SecretStr | None = None
    # Prefect's own variable, read here so that a command learns whether a Prefect server is
    # configured without importing Prefect (seconds): `plan load` syncs the schedules when set.
    prefect_api_url: str | None = Field(default=None, validation_alias="PREFECT_API_URL")

    @property
    def retired_basic_credentials(self) -> bool:
        """Whether THIDUA_ADMIN_USER or THIDUA_ADMIN_PASSWORD is still set (no longer read)."""
        return self.admin_user is not None or self.admin_password is not None

    @property
    def files_dir(self) -> Path:
        """The file store: every submitted and generated file, named by its SHA-256."""
        return self.data_dir / "files"

    @property
    def eml_dir(self) -> Path:
        return self.outbox_dir or self.data_dir / "outbox"

    @property
    def mail_domain(self) -> str:
        return self.mail_from.rsplit("@", 1)[-1].strip(" >")

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/")

    @property
    def prefect_ui_url(self) -> str | None:
        """The Prefect UI, as the Prefect processes beside this one know it (`PREFECT_UI_URL`,
        or `PREFECT_API_URL` without its /api, as `thidua up` sets it); None when unknown."""
        ui = os.environ.get("PREFECT_UI_URL") or os.environ.get("PREFECT_API_URL", "")
        return ui.removesuffix("/").removesuffix("/api") or None

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'thidua.db').resolve()}"

    def signing_key(self) -> bytes:
        """The key private links are derived from; made once and kept if not configured."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        path = self.data_dir / "secret.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it first
                return path.read_bytes().strip()
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_urlsafe(48))
        return path.read_bytes().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()

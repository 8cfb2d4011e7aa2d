"""Settings: every ``PLINTH_*`` environment variable, in one object.

Settings are built by whoever needs them (the CLI, the server factory, the SDK on first
use), never at import, so tests can build as many as they like side by side.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path.home() / ".plinth"


class Settings(BaseSettings):
    """Configuration of a plinth client, server or embedded instance.

    Every field maps to an environment variable: ``data_dir`` is ``PLINTH_DATA_DIR``.
    The README's configuration table is checked against this class by a test.
    """

    model_config = SettingsConfigDict(env_prefix="PLINTH_", extra="ignore")

    data_dir: Path = Field(
        default=DEFAULT_DATA_DIR,
        description="Folder for the embedded database, artifacts and the client spool.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the metadata database; default: SQLite in the data dir.",
    )
    artifacts_url: str | None = Field(
        default=None,
        description="fsspec URL where artifact blobs live; default: a folder in the data dir.",
    )
    s3_endpoint_url: str | None = Field(
        default=None,
        description="Endpoint of an S3-compatible server for s3:// artifact URLs (MinIO, ...).",
    )
    url: str | None = Field(
        default=None,
        description="URL of a plinth server; when set the SDK and CLI talk to it over HTTP.",
    )
    token: str | None = Field(
        default=None, description="Bearer token sent to the server (when it requires one)."
    )
    http_timeout: float = Field(default=30.0, description="Seconds before an HTTP call fails.")
    http_retry_seconds: float = Field(
        default=10.0,
        description="How long the client retries an unreachable server before spooling to disk.",
    )
    flush_interval: float = Field(
        default=0.1, description="Seconds between background flushes of buffered metrics."
    )
    flush_max_points: int = Field(
        default=20_000, description="Buffered points that trigger an early flush."
    )
    system_metrics: bool = Field(
        default=True, description="Sample CPU, memory, disk, network and GPU while runs are active."
    )
    system_metrics_interval: float = Field(
        default=10.0, description="Seconds between system metric samples."
    )
    sqlite_synchronous: str = Field(
        default="NORMAL",
        description="SQLite synchronous pragma: NORMAL survives crashes, FULL power loss.",
    )
    log_level: str = Field(default="info", description="Server log level.")

    @field_validator("sqlite_synchronous")
    @classmethod
    def _known_synchronous(cls, value: str) -> str:
        value = value.upper()
        if value not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError("must be one of OFF, NORMAL, FULL, EXTRA")
        return value

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to ``sqlite:///<data_dir>/plinth.db``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir.expanduser().resolve() / 'plinth.db'}"

    @property
    def resolved_artifacts_url(self) -> str:
        """The artifact root, defaulting to ``<data_dir>/artifacts``."""
        if self.artifacts_url:
            return self.artifacts_url
        return str(self.data_dir.expanduser().resolve() / "artifacts")

    @property
    def spool_dir(self) -> Path:
        """Where the client keeps writes that could not reach the server."""
        return self.data_dir.expanduser().resolve() / "spool"

"""Service configuration from the environment (pydantic-settings).

Every field reads the upper-case variable of the same name (DATA_DIR, MAX_UPLOAD_MB...).
Secrets (API_TOKEN, provider keys) are read through credentials.read_secret so that the
``*_FILE`` form works too; they are never stored on the settings object.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .credentials import read_secret
from .errors import ConfigurationError

# A value longer than this is cut in error messages (settings hold no secrets, but a stray
# paste can be long).
_SHOWN_VALUE_CHARS = 40


class Settings(BaseSettings):
    """Everything the service can be told through environment variables."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    data_dir: Path = Field(Path("data"), description="uploads are stored here")
    output_dir: Path = Field(Path("output"), description="job state, reports and charts")
    port: int = Field(8000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    max_upload_mb: float = Field(50, gt=0)
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    queue_max: int = Field(100, ge=1, description="jobs waiting for a worker; more -> 429")
    job_timeout_s: float = Field(600, gt=0)
    retention_days: float = Field(0, ge=0, description="0 keeps everything")
    retention_check_s: float = Field(3600, gt=0, description="how often retention runs")
    cors_origins: str = Field("", description="comma-separated origins; empty = no CORS")
    rate_limit: int = Field(10, ge=0, description="analyses per minute per client; 0 = off")
    upload_rate_limit: int = Field(30, ge=0, description="uploads per minute per client; 0 = off")
    forwarded_allow_ips: str = Field(
        "",
        description="comma-separated proxy addresses whose X-Forwarded-For is believed; "
        "empty = none (the client is the TCP peer)",
    )
    shutdown_grace_s: float = Field(8, ge=0)
    worker_memory_mb: int = Field(
        1024, ge=64, description="memory a preview or analysis process may add for one table"
    )
    preview_timeout_s: float = Field(30, gt=0, description="time limit for an upload's preview")
    max_body_kb: int = Field(64, ge=1, description="limit for every request body but uploads")
    ready_min_free_mb: float = Field(
        100, ge=0, description="/ready answers 503 when DATA_DIR or OUTPUT_DIR has less free"
    )
    log_vendor_sdks: bool = Field(
        False, description="let the LLM SDKs and httpx log at LOG_LEVEL (their DEBUG has data)"
    )
    api_docs: bool = Field(False, description="serve Swagger UI at /docs (assets from a CDN)")
    queue_url: str = Field(
        "",
        description="redis://host:6379/0 for the shared mode (several nodes, one queue); "
        "empty = local mode. The password goes in QUEUE_PASSWORD_FILE",
    )
    queue_lease_s: float = Field(
        15, ge=3, le=3600, description="a killed node's job is taken over after this long"
    )
    queue_prefix: str = Field(
        "regression-analyzer",
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="prefix of this service's keys in the queue engine",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("queue_url")
    @classmethod
    def _queue_scheme(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected redis://host:port/db, rediss://... or unix://...")
        return value

    @property
    def shared_mode(self) -> bool:
        """True when the queue and job state live in the engine at QUEUE_URL."""
        return bool(self.queue_url)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def max_body_bytes(self) -> int:
        return self.max_body_kb * 1024

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def jobs_dir(self) -> Path:
        return self.output_dir / "jobs"

    def api_token(self) -> str | None:
        """API_TOKEN or the file named by API_TOKEN_FILE; read on demand, never cached here."""
        return read_secret("API_TOKEN")

    def queue_password(self) -> str | None:
        """QUEUE_PASSWORD or the file named by QUEUE_PASSWORD_FILE; never stored here."""
        return read_secret("QUEUE_PASSWORD")


def describe_invalid_settings(error: ValidationError) -> str:
    """One line naming each invalid variable, its value and what it expects.

    e.g. ``RATE_LIMIT='abc' is invalid: input should be a valid integer (analyses per minute
    per client; 0 = off)`` instead of pydantic's multi-line report on field names.
    """
    problems = []
    for problem in error.errors():
        field = str(problem["loc"][0]) if problem["loc"] else "?"
        value = repr(problem.get("input"))
        if len(value) > _SHOWN_VALUE_CHARS:
            value = value[: _SHOWN_VALUE_CHARS - 3] + "..."
        expects = problem["msg"][:1].lower() + problem["msg"][1:]
        info = Settings.model_fields.get(field)
        meaning = f" ({info.description})" if info is not None and info.description else ""
        problems.append(f"{field.upper()}={value} is invalid: {expects}{meaning}")
    return "; ".join(problems) + " (see the settings table in the README)"


def load_settings() -> Settings:
    """Settings from the environment; an invalid value raises ConfigurationError naming it."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigurationError(describe_invalid_settings(exc)) from None


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (a FastAPI dependency; override it in tests)."""
    return load_settings()

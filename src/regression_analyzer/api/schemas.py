"""Pydantic models of everything the API answers (they make up the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..jobs.model import JobStatus
from ..report import Report

Cell = str | float | int | bool | None


class ErrorResponse(BaseModel):
    """Every error: one plain-language message (or FastAPI's list for malformed requests)."""

    detail: str | list[dict[str, Any]]


class ColumnPreview(BaseModel):
    name: str
    dtype: str
    nulls: int
    sample: list[Cell]


class TablePreview(BaseModel):
    columns: list[ColumnPreview]
    rows: list[dict[str, Cell]] = Field(description="the first rows, column name -> value")
    rows_previewed: int = Field(description="rows read for this preview")
    truncated: bool = Field(description="true when only the start of the file was read")
    transposed: bool = Field(description="the preview was read sideways and turned around")
    kind: Literal["csv", "xlsx", "xls"]
    sheet: str | None = None
    sheets: list[str] = Field(default_factory=list, description="Excel sheet names")


class UploadInfo(BaseModel):
    upload_id: str
    filename: str = Field(description="sanitized file name as stored")
    size: int = Field(description="bytes")
    sha256: str
    created_at: datetime
    preview: TablePreview


class AnalyzeRequest(BaseModel):
    upload_id: str = Field(min_length=1, max_length=64)
    target: str | None = Field(None, description="column to explain; omitted: chosen for you")
    features: list[str] | None = Field(None, description="predictors; omitted: all usable")
    context: str | None = Field(None, max_length=4000, description="business context")
    skip_llm: bool = False
    robust: bool = Field(False, description="HC3 robust standard errors")
    event: str | None = Field(
        None,
        max_length=200,
        description="yes/no target: the value to model (coded 1); omitted: decided by rule and "
        "named in the report",
    )
    sheet: str | None = None
    transpose: bool | None = Field(None, description="omitted: detected automatically")


class JobAccepted(BaseModel):
    job_id: str
    status: JobStatus
    results_url: str


class JobResult(BaseModel):
    job_id: str
    upload_id: str
    status: JobStatus
    stage: str | None = Field(None, description="current pipeline stage while running")
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = Field(None, description="why the job failed")
    note: str | None = Field(None, description="e.g. re-queued after a restart")
    report: Report | None = None
    chart_urls: list[str] = Field(default_factory=list)
    report_url: str | None = Field(None, description="human-readable report (Markdown)")


class ChartList(BaseModel):
    job_id: str
    charts: list[str]
    urls: list[str]


class Health(BaseModel):
    status: Literal["ok"]
    version: str


class ReadinessSummary(BaseModel):
    """/ready without the API token: whether to send traffic here, nothing more."""

    ready: bool


class Readiness(ReadinessSummary):
    data_dir_writable: bool
    output_dir_writable: bool
    data_dir_free_mb: float
    output_dir_free_mb: float
    min_free_mb: float = Field(description="READY_MIN_FREE_MB: less free space is not ready")
    workers_alive: bool
    running: int = Field(description="analyses running on this node")
    queued: int = Field(description="analyses waiting (on all nodes in shared mode)")
    queue: Literal["local", "shared"] = "local"
    queue_engine_reachable: bool | None = Field(
        None, description="shared mode: the queue engine answered; null in local mode"
    )


class ProviderInfo(BaseModel):
    name: str
    configured: bool
    model: str

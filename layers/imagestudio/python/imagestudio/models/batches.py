"""Batch records: a batch (one run, or a recurring schedule that makes runs) and its rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from imagestudio.models.records import ErrorInfo, Record, utcnow

BatchStatus = Literal[
    "scheduled", "queued", "running", "paused", "canceling", "succeeded", "partial", "failed", "canceled"
]
RowStatus = Literal["pending", "running", "succeeded", "failed", "canceled", "skipped"]
ROW_ENDED: frozenset[str] = frozenset({"succeeded", "failed", "canceled", "skipped"})


class Batch(Record):
    id: str
    owner: str
    name: str | None = None
    kind: Literal["run", "schedule"] = "run"
    run_of: str | None = Field(None, description="the recurring schedule this run was made by")
    status: BatchStatus = "queued"
    source: Literal["csv", "upload", "items"] = "csv"
    rows_key: str = Field(description="S3 key of the validated rows (JSON)")
    total: int = 0
    succeeded: int = 0
    failed: int = 0
    canceled: int = 0
    skipped: int = 0
    invalid: list[dict[str, Any]] = Field(default_factory=list, description="rows refused by validation")
    concurrency: int = 4
    credits_estimated: int = 0
    usd_estimated: str = "0.00"
    credits_charged: int = 0
    credits_refunded: int = 0
    schedule: str | None = None
    schedule_at: datetime | None = None
    next_run_at: datetime | None = None
    run_count: int = 0
    notify_email: str | None = None
    webhook_url: str | None = None
    manifest_csv_key: str | None = None
    manifest_json_key: str | None = None
    execution: str | None = Field(None, description="ARN of the latest execution running the rows")
    executions: int = 0
    error: ErrorInfo | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def rows_ended(self) -> int:
        return self.succeeded + self.failed + self.canceled + self.skipped


class BatchRowRecord(Record):
    batch_id: str
    row: int
    operation: str
    request: dict[str, Any]
    fields: dict[str, Any] = Field(default_factory=dict, description="the cells as given")
    status: RowStatus = "pending"
    job_id: str | None = None
    outputs: list[str] = Field(default_factory=list)
    credits_estimated: int = 0
    credits_charged: int = 0
    credits_refunded: int = 0
    error: ErrorInfo | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)

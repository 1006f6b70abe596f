"""The records: jobs, assets, uploads. Stored as DynamoDB items, shown through the API as they are."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

JobStatus = Literal["queued", "running", "succeeded", "failed", "canceled", "expired"]
OPEN_STATUSES: frozenset[str] = frozenset({"queued", "running"})
AssetType = Literal["image", "video", "audio", "model3d"]
UploadStatus = Literal["pending", "ready", "rejected"]


class Record(BaseModel):
    """A stored record. Validators are built on first use, not at cold start (a function imports many
    records and views, and a request uses one or two)."""

    model_config = ConfigDict(defer_build=True)


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ErrorInfo(Record):
    code: str
    message: str


class Job(Record):
    id: str
    owner: str
    operation: str
    status: JobStatus = "queued"
    progress: int = Field(0, ge=0, le=100)
    inputs: dict[str, Any] = Field(default_factory=dict, description="S3 keys and parameters")
    outputs: list[str] = Field(default_factory=list, description="asset ids")
    provider: str | None = None
    model: str | None = None
    provider_job_id: str | None = None
    estimated_credits: int = 0
    estimated_usd: str = "0.00"
    actual_credits: int | None = None
    credits_reserved: int = 0
    credits_captured: int = 0
    error: ErrorInfo | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    deadline: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Asset(Record):
    id: str
    owner: str
    type: AssetType = "image"
    key: str = Field(description="S3 key of the file")
    thumbnail_key: str | None = None
    mime: str
    bytes: int
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    filename: str | None = None
    title: str | None = None
    description: str | None = None
    prompt: str | None = None
    provider: str | None = None
    model: str | None = None
    operation: str | None = None
    job_id: str | None = None
    cost_credits: int = 0
    source: str = "generated"
    parent_id: str | None = None
    tags: list[str] = Field(default_factory=list)
    favorite: bool = False
    collection_id: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    download_count: int = 0
    share_count: int = 0
    access_count: int = 0
    last_accessed: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


CollectionKind = Literal["collection", "campaign"]


class Collection(Record):
    """A board of assets; a campaign is a collection with a date range and target platforms."""

    id: str
    owner: str
    name: str
    description: str | None = None
    kind: CollectionKind = "collection"
    cover_asset_id: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    platforms: list[str] = Field(default_factory=list)
    asset_count: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


ShareTarget = Literal["asset", "collection"]


class Share(Record):
    """A public, read-only link to one asset or a collection, until it expires or is revoked."""

    token: str
    owner: str
    target_type: ShareTarget
    target_id: str
    title: str | None = None
    expires_at: datetime
    revoked_at: datetime | None = None
    views: int = 0
    last_viewed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)

    def live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


class Upload(Record):
    id: str
    owner: str
    status: UploadStatus = "pending"
    key: str
    filename: str | None = None
    content_type: str
    max_bytes: int
    asset_id: str | None = None
    reason: str | None = None
    recipe: dict[str, Any] | None = Field(None, description="social_export: exported when the file lands")
    exported: list[str] = Field(default_factory=list, description="asset ids the recipe made")
    export_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


def to_item(model: BaseModel) -> dict[str, Any]:
    """A record as a DynamoDB item: JSON types, floats as Decimal, None left out, owner kept."""
    data = model.model_dump(mode="json", exclude_none=True, round_trip=True)
    item: dict[str, Any] = json.loads(json.dumps(data), parse_float=Decimal)
    return item


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


M = TypeVar("M", bound=BaseModel)


def from_item(cls: type[M], item: dict[str, Any]) -> M:
    return cls.model_validate(_plain(item))


class Persona(Record):
    """A brand persona that `use_persona` applies to a prompt."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")
    owner: str
    name: str = Field(min_length=1, max_length=100)
    tone: str | None = Field(None, max_length=100)
    palette: list[str] = Field(default_factory=list, max_length=12)
    style_words: list[str] = Field(default_factory=list, max_length=20)
    negative_words: list[str] = Field(default_factory=list, max_length=20)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

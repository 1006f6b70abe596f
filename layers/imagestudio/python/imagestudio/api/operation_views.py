"""The answer every image operation gives: the job, what it cost, and each output with a download URL."""

from __future__ import annotations

import base64
from typing import Any, Literal

from pydantic import BaseModel, Field

from imagestudio.api.views import JobLinks, JobView
from imagestudio.operations.core import OperationResult
from imagestudio.store.blobs import BlobStore

ResponseFormat = Literal["url", "b64_json"]
INLINE_CAP_BYTES = 4 * 1024 * 1024  # base64 inflates by 4/3: stays well under Lambda's 6 MB answer


class OutputView(BaseModel):
    asset_id: str
    index: int
    width: int | None
    height: int | None
    bytes: int
    mime: str
    url: str
    thumbnail_url: str | None = None
    b64_json: str | None = Field(None, description="Only with response_format=b64_json, under the size cap.")
    parent_asset_id: str | None = None


class FailureView(BaseModel):
    index: int
    code: str
    message: str


class OperationResponse(BaseModel):
    job_id: str
    status: str
    operation: str
    provider: str | None
    model: str | None
    fallback: str | None = Field(None, description="Why another provider served the request, if one did.")
    credits_estimated: int
    credits_charged: int
    credits_refunded: int
    usd_estimated: str
    outputs: list[OutputView]
    failures: list[FailureView]
    links: JobLinks
    notes: list[str] = []
    details: dict[str, Any] = {}


def operation_response(
    result: OperationResult,
    blobs: BlobStore,
    *,
    response_format: ResponseFormat = "url",
    notes: list[str] | None = None,
    details: dict[str, Any] | None = None,
) -> OperationResponse:
    outputs: list[OutputView] = []
    inline_budget = INLINE_CAP_BYTES
    extra_notes = list(notes or [])
    for unit in result.units:
        for asset in unit.assets:
            b64 = None
            if response_format == "b64_json":
                if asset.bytes <= inline_budget:
                    b64 = base64.b64encode(blobs.get(asset.key)).decode()
                    inline_budget -= asset.bytes
                else:
                    extra_notes.append(f"output {asset.id} is too large to inline; use its url.")
            outputs.append(
                OutputView(
                    asset_id=asset.id,
                    index=unit.index,
                    width=asset.width,
                    height=asset.height,
                    bytes=asset.bytes,
                    mime=asset.mime,
                    url=blobs.download_url(asset.key),
                    thumbnail_url=blobs.download_url(asset.thumbnail_key) if asset.thumbnail_key else None,
                    b64_json=b64,
                    parent_asset_id=asset.parent_id,
                )
            )
    failures = [
        FailureView(index=u.index, code=u.error.code, message=u.error.message)
        for u in result.units
        if u.error
    ]
    if failures:
        extra_notes.append(f"{len(failures)} output(s) failed and were not charged.")
    job = result.job
    return OperationResponse(
        job_id=job.id,
        status=job.status,
        operation=job.operation,
        provider=job.provider,
        model=job.model,
        fallback=job.inputs.get("fallback"),
        credits_estimated=result.estimated.credits,
        credits_charged=result.charged,
        credits_refunded=result.refunded,
        usd_estimated=str(result.estimated.usd),
        outputs=outputs,
        failures=failures,
        links=JobView.of(job).links,
        notes=extra_notes,
        details=details or {},
    )

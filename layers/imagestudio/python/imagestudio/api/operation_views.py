"""The answer every image operation gives: the job, what it cost, and each output with a download URL."""

from __future__ import annotations

import base64
from typing import Any, Literal

from pydantic import BaseModel, Field

from imagestudio.api.views import JobLinks, JobView, OutputView
from imagestudio.models.records import Asset
from imagestudio.operations.core import Outcome
from imagestudio.operations.inline_answer import INLINE_BUDGET
from imagestudio.store.blobs import BlobStore

ResponseFormat = Literal["url", "b64_json"]
#: raw bytes whose base64 fits in what a Lambda may answer. The operation already refused (413) an
#: inline answer whose bound exceeds it, so this is a last safety net, never reached in practice.
INLINE_CAP_BYTES = INLINE_BUDGET // 4 * 3


class Inliner:
    """Each output's base64 while the answer's inline budget lasts; a note for one that does not fit."""

    def __init__(self, blobs: BlobStore, notes: list[str]) -> None:
        self.blobs, self.notes, self.budget = blobs, notes, INLINE_CAP_BYTES

    def b64(self, asset: Asset) -> str | None:
        if asset.bytes > self.budget:
            self.notes.append(f"output {asset.id} is too large to inline; use its url.")
            return None
        self.budget -= asset.bytes
        return base64.b64encode(self.blobs.get(asset.key)).decode()


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
    outcome: Outcome, blobs: BlobStore, *, response_format: ResponseFormat = "url"
) -> OperationResponse:
    outputs: list[OutputView] = []
    notes = list(outcome.notes)
    inliner = Inliner(blobs, notes)
    for unit in outcome.units:
        for asset in unit.assets:
            b64 = inliner.b64(asset) if response_format == "b64_json" else None
            outputs.append(OutputView.of(asset, blobs, unit.index, b64))
    failures = [
        FailureView(index=u.index, code=u.error.code, message=u.error.message)
        for u in outcome.units
        if u.error
    ]
    if failures:
        notes.append(f"{len(failures)} output(s) failed and were not charged.")
    job = outcome.job
    assert job is not None, "studio operations answer with their job"
    return OperationResponse(
        job_id=job.id,
        status=job.status,
        operation=job.operation,
        provider=job.provider,
        model=job.model,
        fallback=job.inputs.get("fallback"),
        credits_estimated=outcome.estimated.credits,
        credits_charged=outcome.charged,
        credits_refunded=outcome.refunded,
        usd_estimated=str(outcome.estimated.usd),
        outputs=outputs,
        failures=failures,
        links=JobView.links_of(job),
        notes=notes,
        details=outcome.details,
    )

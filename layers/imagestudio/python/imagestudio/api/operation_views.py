"""The answer every image operation gives: the job, what it cost, and each output with a download URL."""

from __future__ import annotations

import base64
from typing import Any, Literal

from pydantic import BaseModel, Field

from imagestudio.api.views import JobLinks, JobView, OutputView
from imagestudio.operations.core import Outcome
from imagestudio.operations.inline_answer import INLINE_BUDGET
from imagestudio.store.blobs import BlobStore

ResponseFormat = Literal["url", "b64_json"]
#: raw bytes whose base64 fits in what a Lambda may answer. The operation already refused (413) an
#: inline answer whose bound exceeds it, so this is a last safety net, never reached in practice.
INLINE_CAP_BYTES = INLINE_BUDGET // 4 * 3


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
    inline_budget = INLINE_CAP_BYTES
    notes = list(outcome.notes)
    for unit in outcome.units:
        for asset in unit.assets:
            b64 = None
            if response_format == "b64_json":
                if asset.bytes <= inline_budget:
                    b64 = base64.b64encode(blobs.get(asset.key)).decode()
                    inline_budget -= asset.bytes
                else:
                    notes.append(f"output {asset.id} is too large to inline; use its url.")
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

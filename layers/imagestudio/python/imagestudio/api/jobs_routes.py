"""GET jobs, GET jobs/{id}, DELETE jobs/{id} (cancel: releases the reserved credits)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel

from imagestudio import API_PREFIX
from imagestudio.api.context import caller, ports
from imagestudio.api.views import JobView
from imagestudio.models.records import JobStatus
from imagestudio.notify.jobs import webhook_secrets as job_webhook_secrets
from imagestudio.notify.signing import whsec
from imagestudio.operations.jobs import cancel_job

router = Router()


class JobPage(BaseModel):
    jobs: list[JobView]
    next_cursor: str | None


@router.get(f"{API_PREFIX}/jobs", summary="List your jobs, newest first", tags=["Jobs"])
def list_jobs(
    status: Annotated[JobStatus | None, Query(description="Only jobs in this status.")] = None,
    operation: Annotated[str | None, Query(max_length=40, description="Only jobs of this operation.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None, Query(max_length=2048, description="next_cursor of the previous page")
    ] = None,
) -> JobPage:
    p = ports()
    jobs, next_cursor = p.jobs.find(
        caller(router).user_id, status=status, operation=operation, limit=limit, cursor=cursor
    )
    return JobPage(jobs=JobView.many(jobs, p), next_cursor=next_cursor)


@router.get(
    f"{API_PREFIX}/jobs/<job_id>", summary="A job's status, progress, cost and outputs", tags=["Jobs"]
)
def get_job(job_id: Annotated[str, Path(max_length=64)]) -> JobView:
    p = ports()
    return JobView.of(p.jobs.get(caller(router).user_id, job_id), p)


@router.delete(
    f"{API_PREFIX}/jobs/<job_id>",
    summary="Cancel a queued or running job",
    description="The job becomes canceled and every reserved credit goes back to your balance.",
    tags=["Jobs"],
)
def cancel(job_id: Annotated[str, Path(max_length=64)]) -> JobView:
    p = ports()
    return JobView.of(cancel_job(p, caller(router).user_id, job_id), p)


class WebhookSecret(BaseModel):
    secret: str
    previous_secrets: list[str] = []
    algorithm: str = "HMAC-SHA256"
    signed_content: str = "{webhook-id}.{webhook-timestamp}.{body}"
    signature_format: str = "v1,<base64>"
    headers: list[str] = ["webhook-id", "webhook-timestamp", "webhook-signature"]


@router.get(
    f"{API_PREFIX}/webhooks/secret",
    summary="Your secret for verifying job webhooks",
    description="Job-ended webhooks (webhook_url on a transform request) follow Standard Webhooks: "
    "webhook-signature is 'v1,<base64 HMAC-SHA256 of {webhook-id}.{webhook-timestamp}.{body}>' under this "
    "'whsec_' secret, so any Standard Webhooks library verifies them. While a secret is rotated, deliveries "
    "carry one signature per secret (previous_secrets lists the ones being retired).",
    tags=["Jobs"],
)
def webhook_secret() -> WebhookSecret:
    p = ports()
    current, *previous = job_webhook_secrets(caller(router).user_id, p.settings)
    return WebhookSecret(secret=whsec(current), previous_secrets=[whsec(s) for s in previous])

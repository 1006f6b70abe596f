"""When a job ends: an event on the application's EventBridge bus, and a signed POST to the
`webhook_url` the request gave (per-user secret; see GET webhooks/secret). Notifying never fails
the job: a bus or webhook problem is logged."""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

import boto3

from imagestudio.config import Settings
from imagestudio.errors import DomainError
from imagestudio.models.records import Job
from imagestudio.notify.webhooks import deliver, user_webhook_secret
from imagestudio.providers import keys

log = logging.getLogger(__name__)

SOURCE = "image-studio"
DETAIL_TYPE = "Job Ended"
LOCAL_MASTER = b"image-studio-offline-webhook-master"  # offline stack only: no SSM there


@cache
def _events() -> Any:
    return boto3.client("events")


def reset_clients() -> None:
    _events.cache_clear()


def webhook_secret(owner: str, settings: Settings) -> bytes:
    """The user's signing secret: HMAC of the user id under the master key kept in SSM."""
    try:
        master = keys.api_key("webhook-signing").encode()
    except DomainError:
        if settings.provider_mode != "local":
            raise
        master = LOCAL_MASTER
    return user_webhook_secret(owner, master)


def job_detail(job: Job) -> dict[str, Any]:
    return {
        "job_id": job.id,
        "operation": job.operation,
        "status": job.status,
        "outputs": job.outputs,
        "credits_captured": job.credits_captured,
        "error": job.error.model_dump() if job.error else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def job_ended(job: Job, settings: Settings) -> None:
    detail = job_detail(job)
    if settings.event_bus:
        import json

        try:
            _events().put_events(
                Entries=[
                    {
                        "Source": SOURCE,
                        "DetailType": DETAIL_TYPE,
                        "Detail": json.dumps({**detail, "owner": job.owner}),
                        "EventBusName": settings.event_bus,
                        "Resources": [],
                    }
                ]
            )
        except Exception:
            log.warning("job %s: the job-ended event could not be published", job.id, exc_info=True)
    url = job.inputs.get("webhook_url")
    if url:
        result = deliver(
            str(url),
            {"type": "job.ended", "data": detail},
            secret=webhook_secret(job.owner, settings),
            message_id=f"{job.id}.{job.status}",
            attempts=3,
        )
        if result.status != "delivered":
            log.warning("job %s: webhook not delivered (%s)", job.id, result.error or result.last_status)

"""When a job ends: an event on the application's EventBridge bus, and a signed POST to the
`webhook_url` the request gave (per-user secret; see GET webhooks/secret). Notifying never fails
the job: a bus or webhook problem is logged."""

from __future__ import annotations

import json
import logging
from functools import cache
from typing import Any

from imagestudio import tracing
from imagestudio.config import Settings
from imagestudio.models.records import Job
from imagestudio.notify.webhooks import deliver, user_webhook_secret
from imagestudio.providers import keys

log = logging.getLogger(__name__)

SOURCE = "image-studio"
DETAIL_TYPE = "Job Ended"


@cache
def _events() -> Any:
    import boto3  # at the first request that needs it, not at cold start

    return tracing.instrument(boto3.client("events"))


def reset_clients() -> None:
    _events.cache_clear()


def webhook_secrets(owner: str, settings: Settings) -> list[bytes]:
    """The user's signing secrets, current first: HMAC of the user id under each of this stack's master
    keys. The master lives in SSM (generated there at first use, whatever the provider mode: no stack
    shares one); to rotate it, put the new master first and the old one after a space: deliveries are
    signed with both until the old one is removed."""
    masters = keys.generated_secret("webhook-signing").split()
    return [user_webhook_secret(owner, master.encode()) for master in masters]


def webhook_secret(owner: str, settings: Settings) -> bytes:
    """The user's current signing secret."""
    return webhook_secrets(owner, settings)[0]


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


def publish(settings: Settings, detail_type: str, detail: dict[str, Any], ref: str) -> None:
    """An event on the application's bus; a bus problem is logged, never raised."""
    if not settings.event_bus:
        return
    try:
        _events().put_events(
            Entries=[
                {
                    "Source": SOURCE,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail, default=str),
                    "EventBusName": settings.event_bus,
                    "Resources": [],
                }
            ]
        )
    except Exception:
        log.warning("%s: the %r event could not be published", ref, detail_type, exc_info=True)


def send_webhook(
    settings: Settings, url: str, payload: dict[str, Any], *, owner: str, message_id: str, ref: str
) -> None:
    """A signed POST with the owner's secret; a delivery problem is logged, never raised."""
    secrets = webhook_secrets(owner, settings)
    result = deliver(url, payload, secret=secrets, message_id=message_id, attempts=3)
    if result.status != "delivered":
        log.warning("%s: webhook not delivered (%s)", ref, result.error or result.last_status)


def job_ended(job: Job, settings: Settings) -> None:
    detail = job_detail(job)
    publish(settings, DETAIL_TYPE, {**detail, "owner": job.owner}, f"job {job.id}")
    url = job.inputs.get("webhook_url")
    if url:
        send_webhook(
            settings,
            str(url),
            {"type": "job.ended", "data": detail},
            owner=job.owner,
            message_id=f"{job.id}.{job.status}",
            ref=f"job {job.id}",
        )

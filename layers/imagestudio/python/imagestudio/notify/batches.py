"""When a batch ends: an EventBridge event, a message on the batch SNS topic (email subscribers
receive only their own batches, through a filter policy on `owner`), and the signed webhook."""

from __future__ import annotations

import json
import logging
from functools import cache
from typing import Any

from imagestudio import tracing
from imagestudio.config import Settings
from imagestudio.models.batches import Batch
from imagestudio.notify.jobs import publish, send_webhook

log = logging.getLogger(__name__)
DETAIL_TYPE = "Batch Ended"


@cache
def _sns() -> Any:
    import boto3  # at the first request that needs it, not at cold start

    return tracing.instrument(boto3.client("sns"))


def reset_clients() -> None:
    _sns.cache_clear()


def subscribe_email(settings: Settings, owner: str, email: str) -> None:
    """Subscribe an address to the owner's batch endings (SNS asks the address to confirm)."""
    if not settings.batch_topic:
        return
    try:
        _sns().subscribe(
            TopicArn=settings.batch_topic,
            Protocol="email",
            Endpoint=email,
            Attributes={"FilterPolicy": json.dumps({"owner": [owner]})},
            ReturnSubscriptionArn=True,
        )
    except Exception:
        log.warning("batch notifications: %s could not be subscribed", email, exc_info=True)


def batch_detail(batch: Batch, manifest_url: str | None) -> dict[str, Any]:
    return {
        "batch_id": batch.id,
        "name": batch.name,
        "status": batch.status,
        "total": batch.total,
        "succeeded": batch.succeeded,
        "failed": batch.failed,
        "canceled": batch.canceled,
        "skipped": batch.skipped,
        "credits_charged": batch.credits_charged,
        "credits_refunded": batch.credits_refunded,
        "manifest_url": manifest_url,
        "finished_at": batch.finished_at.isoformat() if batch.finished_at else None,
    }


def batch_ended(batch: Batch, settings: Settings, manifest_url: str | None) -> None:
    detail = batch_detail(batch, manifest_url)
    ref = f"batch {batch.id}"
    publish(settings, DETAIL_TYPE, {**detail, "owner": batch.owner}, ref)
    if settings.batch_topic:
        subject = f"Batch {batch.name or batch.id} {batch.status}: {batch.succeeded}/{batch.total} rows done"
        try:
            _sns().publish(
                TopicArn=settings.batch_topic,
                Subject=subject[:100],
                Message=json.dumps(detail, indent=2),
                MessageAttributes={"owner": {"DataType": "String", "StringValue": batch.owner}},
            )
        except Exception:
            log.warning("%s: the SNS notification could not be published", ref, exc_info=True)
    if batch.webhook_url:
        send_webhook(
            settings,
            batch.webhook_url,
            {"type": "batch.ended", "data": detail},
            owner=batch.owner,
            message_id=f"{batch.id}.{batch.status}.{batch.executions}",
            ref=ref,
        )

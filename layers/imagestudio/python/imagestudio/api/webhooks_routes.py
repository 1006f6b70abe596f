"""POST webhooks/{provider}: a provider's signed callback resumes its job (the signature is the auth)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from imagestudio import API_PREFIX
from imagestudio.api.context import ports
from imagestudio.api.resolver import PUBLIC_ROUTE
from imagestudio.notify.provider_webhooks import receive
from imagestudio.operations import transform

router = Router()


@router.post(
    f"{API_PREFIX}/webhooks/<provider>",
    summary="A provider's job callback (signed; no login)",
    description="Headers webhook-id, webhook-timestamp and webhook-signature (v1=HMAC-SHA256 of "
    "'{id}.{timestamp}.{body}'). A bad or stale signature is 401; a repeated webhook-id is acknowledged "
    "and ignored.",
    tags=["Jobs"],
    openapi_extensions=PUBLIC_ROUTE,
)
def provider_webhook(provider: Annotated[str, Path(max_length=40)]) -> dict[str, Any]:
    event = router.current_event
    body = event.decoded_body or ""
    raw = body.encode() if isinstance(body, str) else body
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    p = ports()
    provider_job_id = receive(p, provider, headers, raw)
    if provider_job_id is None:
        return {"duplicate": True, "webhook_id": headers.get("webhook-id")}
    return transform.webhook(p, provider, provider_job_id, p.settings.poll_wait_scale)

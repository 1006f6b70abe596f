"""Incoming provider webhooks (callback mode): verified and de-duplicated here; the caller (the
webhooks route) then moves the job on.

Signatures follow the Standard Webhooks scheme (notify/signing.py): HMAC-SHA256 over
"{webhook-id}.{webhook-timestamp}.{body}" with the provider's signing secret, timestamps within
5 minutes, compared in constant time. Each webhook-id is accepted once (a conditional write on the
idempotency table); a repeat is acknowledged and ignored.
"""

from __future__ import annotations

import json
import time

from imagestudio.catalog import get_catalog
from imagestudio.config import Settings
from imagestudio.errors import DomainError, InvalidInput
from imagestudio.notify.signing import verify
from imagestudio.notify.webhooks import ReplayGuard
from imagestudio.ports import Ports
from imagestudio.providers import keys

LOCAL_SECRET_PREFIX = b"image-studio-offline-provider-webhook:"


def provider_secret(provider: str, settings: Settings) -> bytes:
    try:
        return keys.api_key(f"{provider}-webhook").encode()
    except DomainError:
        if settings.provider_mode != "local":
            raise
        return LOCAL_SECRET_PREFIX + provider.encode()


def receive(
    ports: Ports, provider: str, headers: dict[str, str], body: bytes, *, now: int | None = None
) -> str | None:
    """The provider job a verified, first-time webhook is about; None for a repeated delivery."""
    get_catalog().provider(provider)  # an unknown provider is a 404 naming the known ones
    settings = ports.settings
    message_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    if not message_id or not stamp.isdigit():
        raise InvalidInput("A webhook needs webhook-id and a numeric webhook-timestamp header.")
    verify(
        provider_secret(provider, settings),
        message_id,
        int(stamp),
        body,
        headers.get("webhook-signature", ""),
        now=now if now is not None else int(time.time()),
    )
    if not ReplayGuard(settings.idempotency_table).first_delivery(provider, message_id):
        return None
    try:
        payload = json.loads(body)
        provider_job_id = str((payload.get("data") or payload)["id"])
    except (ValueError, KeyError, TypeError, AttributeError):
        raise InvalidInput("The webhook body must be JSON with the provider job's 'id'.") from None
    return provider_job_id

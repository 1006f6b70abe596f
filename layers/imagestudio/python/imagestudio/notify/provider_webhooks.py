"""Incoming provider webhooks (callback mode): verified, de-duplicated, then the job moves on.

Signatures follow the Standard Webhooks scheme (notify/signing.py): HMAC-SHA256 over
"{webhook-id}.{webhook-timestamp}.{body}" with the provider's signing secret, timestamps within
5 minutes, compared in constant time. Each webhook-id is accepted once (a conditional write on the
idempotency table); a repeat is acknowledged and ignored.
"""

from __future__ import annotations

import json
import time
from typing import Any

from imagestudio.catalog import get_catalog
from imagestudio.config import Settings
from imagestudio.errors import InvalidInput
from imagestudio.notify.signing import verify
from imagestudio.notify.webhooks import ReplayGuard
from imagestudio.operations import transform
from imagestudio.ports import Ports
from imagestudio.providers import keys


def provider_secret(provider: str, settings: Settings) -> bytes:
    """The secret a provider signs its callbacks with. Live, the provider issues it and it is put into
    SSM by hand; with the offline provider (ProviderMode=local) the stack generates its own at first
    use, so no deployed stack accepts callbacks signed with a constant known from the code."""
    name = f"{provider}-webhook"
    secret = keys.api_key(name) if settings.provider_mode != "local" else keys.generated_secret(name)
    return secret.encode()


def receive(
    ports: Ports, provider: str, headers: dict[str, str], body: bytes, *, now: int | None = None
) -> dict[str, Any]:
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
        return {"duplicate": True, "webhook_id": message_id}
    try:
        payload = json.loads(body)
        provider_job_id = str((payload.get("data") or payload)["id"])
    except (ValueError, KeyError, TypeError, AttributeError):
        raise InvalidInput("The webhook body must be JSON with the provider job's 'id'.") from None
    return transform.webhook(ports, provider, provider_job_id, settings.poll_wait_scale)

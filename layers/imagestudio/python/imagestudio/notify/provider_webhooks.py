"""Incoming provider webhooks (callback mode): verified exactly as the provider signs and
de-duplicated here; the caller (the webhooks route) then moves the job on.

Each provider that calls back has its scheme here, from its documentation:
- WaveSpeed (wavespeed.ai/docs/docs-api/verifying_webhook): headers webhook-id, webhook-timestamp and
  webhook-signature `v3,<hex HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{raw body}">`, keyed with
  the secret (GET /api/v3/webhook/secret) minus its `whsec_` prefix, as text (not base64-decoded);
  timestamps within 5 minutes. The callback URL is the submit's `webhook` query parameter.
Stability AI, Hugging Face and Gemini document no callbacks (their jobs are polled), so a webhook
naming them is refused when live. Offline (ProviderMode=local) the offline provider stands in for
every provider and signs as WaveSpeed does. Signatures are compared in constant time; each webhook-id
is accepted once (a conditional write on the idempotency table); a repeat is acknowledged and ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from imagestudio.catalog import get_catalog
from imagestudio.config import Settings
from imagestudio.errors import InvalidInput, NotFound
from imagestudio.notify.signing import Signer, verify
from imagestudio.notify.webhooks import ReplayGuard
from imagestudio.ports import Ports
from imagestudio.providers import keys


def provider_secret(provider: str, settings: Settings) -> bytes:
    """The secret a provider signs its callbacks with. Live, the provider issues it (WaveSpeed: GET
    /api/v3/webhook/secret) and it is put into SSM by hand. Offline (ProviderMode=local) the offline
    provider's secret for each provider is derived from this stack's own master, generated into SSM at
    first use: no stack accepts callbacks signed with a constant known from the code."""
    if settings.provider_mode != "local":
        return keys.api_key(f"{provider}-webhook").encode()
    master = keys.generated_secret("webhook-signing").split()[0].encode()
    derived = hmac.new(master, f"offline-provider-callbacks:{provider}".encode(), hashlib.sha256)
    return b"whsec_" + derived.hexdigest().encode()


def wavespeed_signature(secret: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """WaveSpeed's webhook-signature value: "v3," + hex HMAC-SHA256 of "{id}.{timestamp}.{raw body}",
    keyed with the secret's text after its "whsec_" prefix, as it is."""
    key = secret.removeprefix(b"whsec_")
    return "v3," + hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


# provider -> (how it signs, the version tag of its signature values)
CALLBACK_SCHEMES: dict[str, tuple[Signer, str]] = {"wavespeed": (wavespeed_signature, "v3")}
OFFLINE_SCHEME = CALLBACK_SCHEMES["wavespeed"]


def callback_scheme(provider: str, settings: Settings) -> tuple[Signer, str]:
    scheme = CALLBACK_SCHEMES.get(provider)
    if scheme is not None:
        return scheme
    if settings.provider_mode == "local":
        return OFFLINE_SCHEME
    raise NotFound(
        f"{provider} sends no signed callbacks; callback mode works with {', '.join(CALLBACK_SCHEMES)}.",
        details={"provider": provider, "valid_choices": sorted(CALLBACK_SCHEMES)},
    )


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
    sign_with, scheme = callback_scheme(provider, settings)
    verify(
        provider_secret(provider, settings),
        message_id,
        int(stamp),
        body,
        headers.get("webhook-signature", ""),
        now=now if now is not None else int(time.time()),
        sign_with=sign_with,
        scheme=scheme,
    )
    if not ReplayGuard(settings.idempotency_table).first_delivery(provider, message_id):
        return None
    try:
        payload = json.loads(body)
        provider_job_id = str((payload.get("data") or payload)["id"])
    except (ValueError, KeyError, TypeError, AttributeError):
        raise InvalidInput("The webhook body must be JSON with the provider job's 'id'.") from None
    return provider_job_id

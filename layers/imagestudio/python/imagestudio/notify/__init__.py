"""Notifications: signed outgoing webhooks, signature checks, and a replay guard for incoming webhooks."""

from imagestudio.notify.signing import SignatureError, sign, signature_header, verify
from imagestudio.notify.webhooks import DeliveryResult, ReplayGuard, deliver, user_webhook_secret

__all__ = [
    "DeliveryResult",
    "ReplayGuard",
    "SignatureError",
    "deliver",
    "sign",
    "signature_header",
    "user_webhook_secret",
    "verify",
]

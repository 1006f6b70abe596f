"""Webhook signatures in the Standard Webhooks style: HMAC-SHA256 over `{id}.{timestamp}.{body}`.

The signature header carries one or more space-separated `v1=<hex>` values, so a sender can sign
with both the old and the new secret while a secret is being rotated; a receiver accepts the message
when any value matches any of its secrets. The timestamp is signed too, and a receiver refuses
messages whose timestamp is more than `tolerance` seconds away from its clock (in either direction),
which bounds how long a captured request can be replayed.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from typing import Final

from imagestudio.errors import Unauthorized

SCHEME: Final = "v1"
DEFAULT_TOLERANCE_SECONDS: Final = 300


class SignatureError(Unauthorized):
    """A webhook whose signature or timestamp does not check out (401)."""

    code = "invalid_signature"


def _digest(secret: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    return hmac.new(secret, signed, hashlib.sha256).hexdigest()


def sign(secret: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: "v1=" + hex HMAC-SHA256 of f"{message_id}.{timestamp}." + body."""
    return f"{SCHEME}={_digest(secret, message_id, timestamp, body)}"


def signature_header(secrets: Iterable[bytes], message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1=` value per secret, space-separated (sign with old and new secrets during a rotation)."""
    return " ".join(sign(secret, message_id, timestamp, body) for secret in secrets)


def verify(
    secret: bytes | Iterable[bytes],
    message_id: str,
    timestamp: int,
    body: bytes,
    signature_header: str | None,
    *,
    now: int,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Raise SignatureError unless the timestamp is within `tolerance` of `now` and one of the header's
    `v1=` values is the signature of this id, timestamp and body under `secret` (or one of several)."""
    if not signature_header or not signature_header.strip():
        raise SignatureError("The webhook signature is missing: expected a 'webhook-signature' header.")
    if not message_id:
        raise SignatureError("The webhook id is missing: expected a 'webhook-id' header.")
    age = now - timestamp
    if age > tolerance:
        raise SignatureError(
            f"The webhook timestamp is too old: {age} s in the past, more than the {tolerance} s allowed.",
            details={"reason": "timestamp_too_old", "tolerance_seconds": tolerance},
        )
    if -age > tolerance:
        raise SignatureError(
            f"The webhook timestamp is in the future: {-age} s ahead, more than the {tolerance} s allowed.",
            details={"reason": "timestamp_in_future", "tolerance_seconds": tolerance},
        )
    secrets = [secret] if isinstance(secret, bytes | bytearray) else list(secret)
    offered = [
        value
        for scheme, sep, value in (part.partition("=") for part in signature_header.split())
        if sep and scheme == SCHEME and value
    ]
    if not offered:
        raise SignatureError(
            "The webhook signature header has no 'v1=<hex>' value.",
            details={"reason": "no_supported_signature"},
        )
    for key in secrets:
        expected = _digest(bytes(key), message_id, timestamp, body)
        # each comparison is constant-time, so a mismatch tells nothing about how close it was
        if any(hmac.compare_digest(expected.encode(), value.lower().encode()) for value in offered):
            return
    raise SignatureError(
        "The webhook signature does not match the body, id and timestamp.",
        details={"reason": "signature_mismatch"},
    )

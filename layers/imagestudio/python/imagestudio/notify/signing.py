"""Webhook signatures as Standard Webhooks specifies them (https://www.standardwebhooks.com/).

`webhook-signature` carries one or more space-separated `v1,<base64>` values, each the HMAC-SHA256 of
`{webhook-id}.{webhook-timestamp}.{body}`; a secret is shown as `whsec_<base64 of its bytes>`. Signing
goes through the `standardwebhooks` package, so any receiver using a Standard Webhooks library
verifies our deliveries. During a rotation a sender signs with the old and the new secret (two
values), and a receiver accepts a message when any value matches any of its secrets. The timestamp
is signed too, and a receiver refuses messages more than `tolerance` seconds away from its clock (in
either direction), which bounds how long a captured request can be replayed.

`verify` also checks schemes that differ only in how a signature is written (a provider's own
version tag and encoding): pass its `sign_with` and `scheme`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Final

from standardwebhooks.webhooks import Webhook

from imagestudio.errors import Unauthorized

SCHEME: Final = "v1"
SECRET_PREFIX: Final = "whsec_"  # noqa: S105 (a format prefix, not a secret)
DEFAULT_TOLERANCE_SECONDS: Final = 300

Signer = Callable[[bytes, str, int, bytes], str]


class SignatureError(Unauthorized):
    """A webhook whose signature or timestamp does not check out (401)."""

    code = "invalid_signature"


def whsec(secret: bytes) -> str:
    """A secret as Standard Webhooks libraries take it: 'whsec_' + base64 of its bytes."""
    return SECRET_PREFIX + base64.b64encode(secret).decode()


def secret_bytes(value: str) -> bytes:
    """The bytes of a 'whsec_<base64>' secret (the inverse of `whsec`)."""
    try:
        return base64.b64decode(value.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a webhook secret is 'whsec_' followed by base64") from None


def sign(secret: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: "v1," + base64 HMAC-SHA256 of f"{message_id}.{timestamp}." + body."""
    return Webhook(secret).sign(message_id, datetime.fromtimestamp(timestamp, UTC), body)


def signature_header(secrets: Iterable[bytes], message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,` value per secret, space-separated (sign with old and new secrets during a rotation)."""
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
    sign_with: Signer = sign,
    scheme: str = SCHEME,
) -> None:
    """Raise SignatureError unless the timestamp is within `tolerance` of `now` and one of the header's
    `<scheme>,<signature>` values is the signature of this id, timestamp and body under `secret` (or
    one of several)."""
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
        f"{version},{value}"
        for version, sep, value in (part.partition(",") for part in signature_header.split())
        if sep and version == scheme and value
    ]
    if not offered:
        raise SignatureError(
            f"The webhook signature header has no '{scheme},<signature>' value.",
            details={"reason": "no_supported_signature"},
        )
    for key in secrets:
        expected = sign_with(bytes(key), message_id, timestamp, body).encode()
        # each comparison is constant-time, so a mismatch tells nothing about how close it was
        if any(hmac.compare_digest(expected, value.encode()) for value in offered):
            return
    raise SignatureError(
        "The webhook signature does not match the body, id and timestamp.",
        details={"reason": "signature_mismatch"},
    )

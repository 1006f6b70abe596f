"""Webhook signatures (Standard Webhooks): HMAC-SHA256 over id, timestamp and body as 'v1,<base64>';
whsec_ secrets; rotation; replay window; the standardwebhooks package's own verifier agrees."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from imagestudio.errors import Unauthorized
from imagestudio.notify import SignatureError, sign, signature_header, verify
from imagestudio.notify.signing import secret_bytes, whsec

SECRET = b"whsec-test-secret"
OLD, NEW = b"old-secret", b"new-secret"
MSG = "msg_2Ld0Zw1"
TS = 1_700_000_000
BODY = b'{"type":"job.succeeded"}'
# computed independently: printf 'msg_2Ld0Zw1.1700000000.{"type":"job.succeeded"}' |
#   openssl dgst -sha256 -hmac whsec-test-secret -binary | base64
KNOWN = "v1,L8liaPLfxN6HV3xp4CC4qHllC4IlxnTllu/mU+6hjTE="


def refused(*args: Any, now: int = TS, **kwargs: Any) -> SignatureError:
    with pytest.raises(SignatureError) as caught:
        verify(*args, now=now, **kwargs)
    assert caught.value.status == 401 and isinstance(caught.value, Unauthorized)
    return caught.value


def test_known_vector() -> None:
    assert sign(SECRET, MSG, TS, BODY) == KNOWN
    verify(SECRET, MSG, TS, BODY, KNOWN, now=TS)


def test_rotation_sender_signs_with_both_secrets_and_either_receiver_accepts() -> None:
    header = signature_header([OLD, NEW], MSG, TS, BODY)
    assert header.count("v1,") == 2 and " " in header
    verify(OLD, MSG, TS, BODY, header, now=TS)
    verify(NEW, MSG, TS, BODY, header, now=TS)
    refused(b"another", MSG, TS, BODY, header)


def test_rotation_receiver_holds_both_secrets() -> None:
    verify([NEW, OLD], MSG, TS, BODY, sign(OLD, MSG, TS, BODY), now=TS)
    verify([NEW, OLD], MSG, TS, BODY, sign(NEW, MSG, TS, BODY), now=TS)


def test_unknown_schemes_and_noise_are_ignored_next_to_a_valid_value() -> None:
    header = f"v0,abc v1a,xyz v1=deadbeef {KNOWN}"
    verify(SECRET, MSG, TS, BODY, header, now=TS)
    assert "no 'v1,<signature>'" in refused(SECRET, MSG, TS, BODY, "v2,abc junk v1=00").message
    # the old hex format is not a Standard Webhooks signature
    assert "does not match" in refused(SECRET, MSG, TS, BODY, "v1,2fc96268f2dfc4de87577c69e020b8a8").message


def test_the_standardwebhooks_verifier_accepts_what_we_sign_and_whsec_round_trips() -> None:
    now = int(time.time())
    header = signature_header([OLD, NEW], MSG, now, BODY)  # a rotation: either receiver verifies
    headers = {"webhook-id": MSG, "webhook-timestamp": str(now), "webhook-signature": header}
    for secret in (OLD, NEW):
        assert whsec(secret).startswith("whsec_") and secret_bytes(whsec(secret)) == secret
        assert Webhook(whsec(secret)).verify(BODY, headers) == {"type": "job.succeeded"}
    with pytest.raises(WebhookVerificationError):
        Webhook(whsec(b"another")).verify(BODY, headers)


@pytest.mark.parametrize(
    ("message_id", "timestamp", "body"),
    [
        (MSG, TS, b'{"type":"job.failed"}'),
        (MSG, TS + 1, BODY),
        ("msg_other", TS, BODY),
        (MSG, TS, BODY + b" "),
    ],
)
def test_tampering_with_body_timestamp_or_id_is_refused(message_id: str, timestamp: int, body: bytes) -> None:
    err = refused(SECRET, message_id, timestamp, body, KNOWN, now=TS)
    assert "does not match" in err.message


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing_signature_is_refused(header: str | None) -> None:
    assert "missing" in refused(SECRET, MSG, TS, BODY, header).message


def test_stale_and_future_timestamps_are_refused_saying_which() -> None:
    stale = refused(SECRET, MSG, TS, BODY, KNOWN, now=TS + 301)
    assert "too old" in stale.message and "301 s" in stale.message and "300 s" in stale.message
    future = refused(SECRET, MSG, TS, BODY, KNOWN, now=TS - 301)
    assert "future" in future.message and "301 s" in future.message
    verify(SECRET, MSG, TS, BODY, KNOWN, now=TS + 300)
    verify(SECRET, MSG, TS, BODY, KNOWN, now=TS - 300)
    assert "too old" in refused(SECRET, MSG, TS, BODY, KNOWN, now=TS + 61, tolerance=60).message


@given(st.binary(min_size=1, max_size=64), st.text(min_size=1), st.integers(0, 2**32), st.binary())
def test_what_is_signed_verifies(secret: bytes, message_id: str, timestamp: int, body: bytes) -> None:
    verify(secret, message_id, timestamp, body, sign(secret, message_id, timestamp, body), now=timestamp)

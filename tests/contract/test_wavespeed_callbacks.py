"""WaveSpeed callbacks, both ends: the submit carries our callback URL in callback mode, and a recorded,
correctly signed callback (signature computed independently with openssl, see the recording) verifies
exactly as WaveSpeed documents it; anything else is refused."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from imagestudio.config import Settings
from imagestudio.notify import provider_webhooks
from imagestudio.notify.provider_webhooks import receive, wavespeed_signature
from imagestudio.notify.signing import SignatureError, sign, verify
from imagestudio.providers.base import AvatarRequest, Media, Submitted, VideoRequest
from imagestudio.providers.wavespeed import WaveSpeedProvider
from tests.http_fakes import Recorder

RECORDED = json.loads((Path(__file__).parent / "recorded" / "wavespeed_callbacks.json").read_text())
SUBMITTED = json.loads((Path(__file__).parent / "recorded" / "wavespeed_responses.json").read_text())[
    "submitted"
]
SECRET = RECORDED["secret"].encode()
CALLBACK = RECORDED["completed"]
TS = int(CALLBACK["headers"]["webhook-timestamp"])
CALLBACK_URL = "https://abc123.execute-api.us-east-1.amazonaws.com/api/image-studio/webhooks/wavespeed"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24


def check(body: bytes, headers: dict[str, str], *, secret: bytes = SECRET, now: int = TS) -> None:
    verify(
        secret,
        headers.get("webhook-id", ""),
        int(headers["webhook-timestamp"]),
        body,
        headers.get("webhook-signature"),
        now=now,
        sign_with=wavespeed_signature,
        scheme="v3",
    )


def test_the_recorded_callback_verifies_and_our_signer_reproduces_it() -> None:
    body = CALLBACK["body"].encode()
    check(body, CALLBACK["headers"])
    assert (
        wavespeed_signature(SECRET, CALLBACK["headers"]["webhook-id"], TS, body)
        == (CALLBACK["headers"]["webhook-signature"])
    )


@pytest.mark.parametrize(
    "change",
    [
        "tampered body",
        "another secret",
        "secret base64-decoded",
        "standard webhooks v1 signature",
        "old v1=hex signature",
        "stale",
        "another id",
    ],
)
def test_anything_but_wavespeeds_exact_scheme_is_refused(change: str) -> None:
    body = CALLBACK["body"].encode()
    headers = dict(CALLBACK["headers"])
    secret, now = SECRET, TS
    msg_id = headers["webhook-id"]
    if change == "tampered body":
        body = body.replace(b"completed", b"failed")
    elif change == "another secret":
        secret = b"whsec_another"
    elif change == "secret base64-decoded":  # what a Standard Webhooks library would do: not WaveSpeed's way
        raw = base64.b64decode(SECRET.removeprefix(b"whsec_") + b"==")
        headers["webhook-signature"] = wavespeed_signature(raw, msg_id, TS, body)
    elif change == "standard webhooks v1 signature":
        headers["webhook-signature"] = sign(SECRET, msg_id, TS, body)
    elif change == "old v1=hex signature":
        headers["webhook-signature"] = "v1=" + CALLBACK["headers"]["webhook-signature"].removeprefix("v3,")
    elif change == "stale":
        now = TS + 301
    elif change == "another id":
        headers["webhook-id"] = "another"
    with pytest.raises(SignatureError):
        check(body, headers, secret=secret, now=now)


def test_receive_verifies_the_recorded_callback_and_names_its_provider_job(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The whole incoming check in live mode, with the secret WaveSpeed issued read from SSM; the
    webhooks route then moves that provider job's job on."""
    monkeypatch.setattr(provider_webhooks.keys, "api_key", lambda name: RECORDED["secret"])
    monkeypatch.setattr(
        provider_webhooks.ReplayGuard, "first_delivery", lambda self, provider, message_id: True
    )
    settings = Settings.from_env(
        {
            "PROVIDER_MODE": "live",
            "STAGE": "test",
            **{f"{t}_TABLE": "t" for t in ("JOBS", "CREDITS", "ASSETS", "IDEMPOTENCY")},
            "MEDIA_BUCKET": "b",
        }
    )
    ports: Any = type("P", (), {"settings": settings})()
    body = CALLBACK["body"].encode()
    answer = receive(ports, "wavespeed", dict(CALLBACK["headers"]), body, now=TS + 5)
    assert answer == "pred_abc123"
    with pytest.raises(SignatureError):
        receive(ports, "wavespeed", dict(CALLBACK["headers"]), body + b" ", now=TS + 5)
    # a provider that documents no callbacks is not accepted live
    with pytest.raises(Exception, match="sends no signed callbacks"):
        receive(ports, "stability", dict(CALLBACK["headers"]), body, now=TS + 5)


@pytest.mark.parametrize("kind", ["video", "avatar"])
def test_callback_mode_submits_with_our_webhook_url_as_wavespeed_documents(kind: str) -> None:
    recorder = Recorder(httpx.Response(200, json=SUBMITTED))
    adapter = WaveSpeedProvider("k", http=recorder.client(), sleep=lambda s: None)
    image = Media(data=PNG, mime="image/png", width=1024, height=1024)
    if kind == "video":
        result = adapter.image_to_video(
            VideoRequest(image=image, model="wan-2.5-image-to-video", callback_url=CALLBACK_URL)
        )
    else:
        recorder.queue.insert(
            0, httpx.Response(200, json={"code": 200, "data": {"download_url": "https://x/a.wav"}})
        )
        audio = Media(data=b"RIFF....WAVE", mime="audio/wav", duration=3.0, filename="a.wav")
        result = adapter.talking_avatar(
            AvatarRequest(image=image, audio=audio, model="infinitetalk", callback_url=CALLBACK_URL)
        )
    assert isinstance(result, Submitted)
    submit = recorder.requests[-1]
    assert submit.method == "POST"
    assert parse_qs(urlsplit(str(submit.url)).query) == {"webhook": [CALLBACK_URL]}
    assert "enable_sync_mode" not in json.loads(submit.content)


def test_without_callback_mode_no_webhook_is_sent() -> None:
    recorder = Recorder(httpx.Response(200, json=SUBMITTED))
    adapter = WaveSpeedProvider("k", http=recorder.client(), sleep=lambda s: None)
    image = Media(data=PNG, mime="image/png", width=1024, height=1024)
    adapter.image_to_video(VideoRequest(image=image, model="wan-2.5-image-to-video"))
    assert urlsplit(str(recorder.requests[-1].url)).query == ""

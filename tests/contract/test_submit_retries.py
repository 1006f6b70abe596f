"""Retries that could charge twice: for each adapter, a submit (a POST that may start a paid job) under
each injected fault. Exactly one paid job per request: a submit is sent again only when the provider
cannot have received it (connect errors) or said it did not take it (429, 503 with Retry-After); after a
500, 502, 504, a timeout or a dropped connection it is not repeated. Polls (GET) keep their retries."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from imagestudio.providers.base import (
    GenerateRequest,
    Media,
    ProviderUnavailable,
    ThreeDRequest,
    VideoRequest,
)
from imagestudio.providers.gemini import GeminiProvider
from imagestudio.providers.huggingface import HuggingFaceProvider
from imagestudio.providers.stability import StabilityProvider
from imagestudio.providers.wavespeed import WaveSpeedProvider
from tests.http_fakes import Recorder

RECORDED = Path(__file__).parent / "recorded"
WAVESPEED = json.loads((RECORDED / "wavespeed_responses.json").read_text())
GEMINI = json.loads((RECORDED / "gemini_responses.json").read_text())
PNG = base64.b64decode(GEMINI["ok"]["predictions"][0]["bytesBase64Encoded"])
GLB = b"glTF\x02\x00\x00\x00" + b"\x00" * 40
IMAGE = Media(data=PNG, mime="image/png", width=1024, height=1024, filename="photo.png")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def wavespeed(recorder: Recorder) -> Callable[[], Any]:
    adapter = WaveSpeedProvider("k", http=recorder.client(), sleep=lambda s: None)
    return lambda: adapter.image_to_video(VideoRequest(image=IMAGE, model="wan-2.5-image-to-video"))


def stability(recorder: Recorder) -> Callable[[], Any]:
    adapter = StabilityProvider("k", http=recorder.client(), sleep=lambda s: None)
    return lambda: adapter.image_to_3d(ThreeDRequest(image=IMAGE, model="stable-fast-3d"))


def gemini(recorder: Recorder) -> Callable[[], Any]:
    adapter = GeminiProvider("k", http=recorder.client(), sleep=lambda s: None)
    return lambda: adapter.generate(
        GenerateRequest(prompt="a bike", model="imagen-4", width=1024, height=1024)
    )


def huggingface(recorder: Recorder) -> Callable[[], Any]:
    clock = Clock()
    adapter = HuggingFaceProvider("k", http=recorder.client(), sleep=clock.sleep, clock=clock)
    return lambda: adapter.generate(
        GenerateRequest(prompt="a lighthouse", model="flux-krea-dev", width=1024, height=1024)
    )


OK: dict[str, Callable[[], httpx.Response]] = {
    "wavespeed": lambda: httpx.Response(200, json=WAVESPEED["submitted"]),
    "stability": lambda: httpx.Response(200, content=GLB, headers={"content-type": "model/gltf-binary"}),
    "gemini": lambda: httpx.Response(200, json=GEMINI["ok"]),
    "huggingface": lambda: httpx.Response(200, content=PNG, headers={"content-type": "image/png"}),
}
ADAPTERS = {"wavespeed": wavespeed, "stability": stability, "gemini": gemini, "huggingface": huggingface}

# faults after which the request may have reached the provider: never sent again
MAY_HAVE_STARTED: dict[str, Callable[[], httpx.Response | Exception]] = {
    "500": lambda: httpx.Response(500, json={"message": "internal"}),
    "502": lambda: httpx.Response(502),
    "504": lambda: httpx.Response(504),
    "503 without Retry-After": lambda: httpx.Response(503, json={"message": "unavailable"}),
    "read timeout": lambda: httpx.ReadTimeout("read timed out"),
    "write timeout": lambda: httpx.WriteTimeout("write timed out"),
    "connection dropped": lambda: httpx.RemoteProtocolError("server disconnected"),
    "read error": lambda: httpx.ReadError("connection reset"),
}
# faults before the provider took the request: sent again, once it is taken it is one job
NOT_TAKEN: dict[str, Callable[[], httpx.Response | Exception]] = {
    "connect error": lambda: httpx.ConnectError("connection refused"),
    "connect timeout": lambda: httpx.ConnectTimeout("connect timed out"),
    "429": lambda: httpx.Response(429, headers={"retry-after": "1"}),
    "503 with Retry-After": lambda: httpx.Response(503, headers={"retry-after": "1"}),
}


def paid_jobs(recorder: Recorder, refused: int) -> int:
    """Submits the provider may have turned into a job: every POST but those it never took."""
    return sum(r.method == "POST" for r in recorder.requests) - refused


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("fault", MAY_HAVE_STARTED)
def test_a_submit_that_may_have_reached_the_provider_is_not_sent_again(adapter: str, fault: str) -> None:
    recorder = Recorder(MAY_HAVE_STARTED[fault](), OK[adapter]())
    with pytest.raises(ProviderUnavailable):
        ADAPTERS[adapter](recorder)()
    assert paid_jobs(recorder, refused=0) == 1, [str(r.url) for r in recorder.requests]
    assert len(recorder.queue) == 1  # the good answer was never asked for: no second submit


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("fault", NOT_TAKEN)
def test_a_submit_the_provider_never_took_is_sent_again_once(adapter: str, fault: str) -> None:
    recorder = Recorder(NOT_TAKEN[fault](), NOT_TAKEN[fault](), OK[adapter]())
    result = ADAPTERS[adapter](recorder)()
    assert result is not None
    assert sum(r.method == "POST" for r in recorder.requests) == 3
    assert paid_jobs(recorder, refused=2) == 1


def test_polls_keep_their_retries_on_5xx_and_timeouts() -> None:
    from imagestudio.providers.http import send

    recorder = Recorder(
        httpx.Response(500), httpx.ReadTimeout("slow"), httpx.Response(502), httpx.Response(200)
    )
    response = send("p", "GET", "https://x.test/poll", http=recorder.client(), sleep=lambda s: None)
    assert response.status_code == 200 and len(recorder.requests) == 4


def test_a_submit_with_an_idempotency_key_is_retried_and_carries_the_key() -> None:
    from imagestudio.providers.http import send

    recorder = Recorder(httpx.Response(502), httpx.ReadTimeout("slow"), httpx.Response(200))
    response = send(
        "p",
        "POST",
        "https://x.test/jobs",
        http=recorder.client(),
        sleep=lambda s: None,
        idempotency_key="job-1",
    )
    assert response.status_code == 200 and len(recorder.requests) == 3
    assert {r.headers["idempotency-key"] for r in recorder.requests} == {"job-1"}

"""Hugging Face contract: the exact text-to-image request, the 503 model-loading wait, retries and
error mapping. Answers are recorded shapes, never the network."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from imagestudio.providers.base import (
    GenerateRequest,
    ProviderRejected,
    ProviderUnavailable,
    Succeeded,
    Unsupported,
)
from imagestudio.providers.huggingface import HuggingFaceProvider
from tests.http_fakes import transport

RECORDED = json.loads((Path(__file__).parent / "recorded" / "huggingface_responses.json").read_text())
URL = "https://router.huggingface.co/hf-inference/models/black-forest-labs/FLUX.1-Krea-dev"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 40


class FakeClock:
    """Sleeping is instant; the clock moves by what was slept."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def provider(
    *responses: httpx.Response | Exception, **options: Any
) -> tuple[HuggingFaceProvider, list[httpx.Request], FakeClock]:
    http, seen = transport(*responses)
    clock = FakeClock()
    adapter = HuggingFaceProvider(
        "hf_token",
        http=http,
        sleep=clock.sleep,
        clock=clock,
        **options,
    )
    return adapter, seen, clock


def image_answer(data: bytes = PNG, content_type: str = "image/png") -> httpx.Response:
    return httpx.Response(200, content=data, headers={"content-type": content_type})


REQUEST = GenerateRequest(prompt="A lighthouse at dusk", model="flux-krea-dev", width=1024, height=1024)


def test_exact_request_with_every_parameter_and_size_fitted_to_the_model() -> None:
    adapter, seen, _ = provider(image_answer(JPEG, "image/jpeg"))
    result = adapter.generate(
        GenerateRequest(
            prompt="A lighthouse at dusk",
            model="flux-krea-dev",
            width=1920,
            height=1080,
            negative_prompt="blurry",
            seed=42,
            steps=28,
            guidance_scale=3.5,
        )
    )
    (request,) = seen
    assert request.method == "POST" and str(request.url) == URL
    assert request.headers["authorization"] == "Bearer hf_token"
    assert request.headers["accept"] == "image/*"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {
        "inputs": "A lighthouse at dusk",
        "parameters": {
            "width": 1024,
            "height": 576,
            "num_inference_steps": 28,
            "guidance_scale": 3.5,
            "negative_prompt": "blurry",
            "seed": 42,
        },
    }
    assert isinstance(result, Succeeded)
    (output,) = result.outputs
    assert output.data == JPEG and output.mime == "image/jpeg" and output.seed == 42
    assert output.extra == {
        "requested_width": 1920,
        "requested_height": 1080,
        "sent_width": 1024,
        "sent_height": 576,
    }


def test_minimal_request_sends_only_the_size() -> None:
    adapter, seen, _ = provider(image_answer())
    result = adapter.generate(REQUEST)
    assert json.loads(seen[0].content) == {
        "inputs": "A lighthouse at dusk",
        "parameters": {"width": 1024, "height": 1024},
    }
    assert isinstance(result, Succeeded) and result.outputs[0].extra == {}


def test_alias_resolves_through_the_catalog() -> None:
    adapter, seen, _ = provider(image_answer())
    adapter.generate(GenerateRequest(prompt="x", model="FLUX.1-Krea-dev", width=512, height=512))
    assert str(seen[0].url) == URL


def test_model_loading_503_waits_its_estimated_time_then_succeeds() -> None:
    adapter, seen, clock = provider(httpx.Response(503, json=RECORDED["loading"]), image_answer())
    result = adapter.generate(REQUEST)
    assert isinstance(result, Succeeded) and result.outputs[0].data == PNG
    assert len(seen) == 2 and clock.waits == [12.0]


def test_a_loading_estimate_beyond_the_budget_fails_fast() -> None:
    adapter, seen, clock = provider(httpx.Response(503, json=RECORDED["loading_long"]))
    with pytest.raises(ProviderUnavailable, match="still loading") as caught:
        adapter.generate(REQUEST)
    assert caught.value.details["estimated_time"] == pytest.approx(2315.186)
    assert len(seen) == 1 and clock.waits == []


def test_repeated_loading_within_budget_then_gives_up() -> None:
    loading = [httpx.Response(503, json=RECORDED["loading"]) for _ in range(6)]
    adapter, seen, clock = provider(*loading, load_budget_seconds=30.0)
    with pytest.raises(ProviderUnavailable, match="loading"):
        adapter.generate(REQUEST)
    assert clock.waits == [12.0, 12.0] and len(seen) == 3  # a third wait would pass the 30 s budget


def test_429_honours_retry_after() -> None:
    adapter, seen, clock = provider(
        httpx.Response(429, headers={"retry-after": "3"}, json=RECORDED["rate_limited"]), image_answer()
    )
    assert isinstance(adapter.generate(REQUEST), Succeeded)
    assert clock.waits == [3.0] and len(seen) == 2


def test_connection_errors_and_refusals_are_retried_then_provider_unavailable() -> None:
    adapter, seen, clock = provider(
        httpx.ConnectError("refused"),
        httpx.Response(429),
        httpx.Response(503, text="upstream", headers={"retry-after": "1"}),
        httpx.ConnectTimeout("slow to connect"),
        httpx.Response(429),
        httpx.ConnectError("refused"),
    )
    with pytest.raises(ProviderUnavailable, match="not answering"):
        adapter.generate(REQUEST)
    assert len(seen) == 6 and len(clock.waits) == 5


def test_a_5xx_or_a_read_timeout_after_sending_is_not_sent_again() -> None:
    for fault in (httpx.Response(500), httpx.Response(502), httpx.Response(504), httpx.ReadTimeout("slow")):
        adapter, seen, _ = provider(httpx.ConnectError("refused"), fault, image_answer())
        with pytest.raises(ProviderUnavailable) as caught:
            adapter.generate(REQUEST)
        assert len(seen) == 2 and caught.value.details["may_have_started"] is True


def test_configuration_problems_are_ours_and_bad_input_is_the_users() -> None:
    for status in (401, 403, 404):
        adapter, seen, _ = provider(httpx.Response(status, json=RECORDED["gated"]))
        with pytest.raises(ProviderUnavailable, match="configuration"):
            adapter.generate(REQUEST)
        assert len(seen) == 1
    adapter, seen, _ = provider(httpx.Response(400, json=RECORDED["bad_input"]))
    with pytest.raises(ProviderRejected, match="must be non-empty"):
        adapter.generate(REQUEST)


def test_a_200_that_is_not_an_image_is_provider_unavailable() -> None:
    adapter, _, _ = provider(httpx.Response(200, json={"error": "unexpected"}))
    with pytest.raises(ProviderUnavailable, match="not an image"):
        adapter.generate(REQUEST)


def test_models_of_other_providers_are_unsupported() -> None:
    adapter, seen, _ = provider()
    with pytest.raises(Unsupported):
        adapter.generate(GenerateRequest(prompt="x", model="qwen-image", width=512, height=512))
    assert seen == []

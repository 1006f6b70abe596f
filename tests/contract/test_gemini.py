"""Gemini (Imagen) contract: the exact predict request, size to aspect ratio, base64 outputs, the
safety filter and Google's error envelope. Answers are recorded shapes, never the network."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from imagestudio.errors import ContentRejected
from imagestudio.providers.base import (
    GenerateRequest,
    ProviderRejected,
    ProviderUnavailable,
    Succeeded,
    Unsupported,
)
from imagestudio.providers.gemini import GeminiProvider
from tests.http_fakes import transport

RECORDED = json.loads((Path(__file__).parent / "recorded" / "gemini_responses.json").read_text())
URL = "https://generativelanguage.googleapis.com/v1beta/models/imagen-4.0-generate-001:predict"
PNG = base64.b64decode(RECORDED["ok"]["predictions"][0]["bytesBase64Encoded"])


def provider(*responses: httpx.Response, **options: Any) -> tuple[GeminiProvider, list[httpx.Request], list]:
    http, seen = transport(*responses)
    waits: list[float] = []
    adapter = GeminiProvider("g-key", http=http, sleep=waits.append, **options)
    return adapter, seen, waits


def request(width: int = 1920, height: int = 1080, **fields: Any) -> GenerateRequest:
    return GenerateRequest(prompt="A red bicycle", model="imagen-4", width=width, height=height, **fields)


def test_exact_predict_request_and_decoded_output() -> None:
    adapter, seen, _ = provider(httpx.Response(200, json=RECORDED["ok"]))
    result = adapter.generate(request(seed=3, negative_prompt="cars"))
    (sent,) = seen
    assert sent.method == "POST" and str(sent.url) == URL
    assert sent.headers["x-goog-api-key"] == "g-key"
    assert "authorization" not in sent.headers
    assert sent.headers["content-type"] == "application/json"
    assert json.loads(sent.content) == {
        "instances": [{"prompt": "A red bicycle"}],
        "parameters": {
            "sampleCount": 1,
            "aspectRatio": "16:9",
            "includeRaiReason": True,
            "personGeneration": "allow_adult",
        },
    }
    assert isinstance(result, Succeeded)
    (output,) = result.outputs
    assert output.data == PNG and output.mime == "image/png" and output.url is None
    assert output.extra == {
        "requested_width": 1920,
        "requested_height": 1080,
        "sent_aspect_ratio": "16:9",
        "ignored_fields": ["seed", "negative_prompt"],
    }


@pytest.mark.parametrize(
    ("width", "height", "ratio"),
    [
        (1080, 1080, "1:1"),
        (1080, 1350, "3:4"),  # 4:5 Instagram portrait
        (1080, 1920, "9:16"),
        (1200, 628, "16:9"),  # 1.91:1 link image
        (1600, 1200, "4:3"),
        (2000, 1000, "16:9"),
    ],
)
def test_size_maps_to_the_nearest_supported_aspect_ratio(width: int, height: int, ratio: str) -> None:
    adapter, seen, _ = provider(httpx.Response(200, json=RECORDED["ok"]))
    adapter.generate(request(width, height))
    assert json.loads(seen[0].content)["parameters"]["aspectRatio"] == ratio


def test_person_generation_can_be_left_to_the_api_default() -> None:
    adapter, seen, _ = provider(httpx.Response(200, json=RECORDED["ok"]), person_generation=None)
    adapter.generate(request())
    assert "personGeneration" not in json.loads(seen[0].content)["parameters"]


@pytest.mark.parametrize("answer", ["filtered", "empty"])
def test_safety_filtered_or_empty_answers_are_content_rejected(answer: str) -> None:
    adapter, _, _ = provider(httpx.Response(200, json=RECORDED[answer]))
    with pytest.raises(ContentRejected, match="safety filter"):
        adapter.generate(request())


def test_partially_filtered_samples_keep_the_rest_and_say_why() -> None:
    body = {"predictions": [*RECORDED["ok"]["predictions"], *RECORDED["filtered"]["predictions"]]}
    adapter, _, _ = provider(httpx.Response(200, json=body))
    result = adapter.generate(request())
    assert isinstance(result, Succeeded) and len(result.outputs) == 1
    assert result.outputs[0].extra["filtered_reasons"] == [
        RECORDED["filtered"]["predictions"][0]["raiFilteredReason"]
    ]


def test_google_errors_are_mapped() -> None:
    cases: list[tuple[int, str, type[Exception]]] = [
        (400, "safety_400", ContentRejected),
        (400, "invalid_400", ProviderRejected),
        (400, "billing_400", ProviderUnavailable),
        (403, "denied_403", ProviderUnavailable),
    ]
    for status, name, error in cases:
        adapter, seen, _ = provider(httpx.Response(status, json=RECORDED[name]))
        with pytest.raises(error):
            adapter.generate(request())
        assert len(seen) == 1


def test_quota_429_is_retried_honouring_retry_after() -> None:
    adapter, seen, waits = provider(
        httpx.Response(429, headers={"retry-after": "4"}, json=RECORDED["quota_429"]),
        httpx.Response(200, json=RECORDED["ok"]),
    )
    assert isinstance(adapter.generate(request()), Succeeded)
    assert waits == [4.0] and len(seen) == 2


def test_a_503_with_retry_after_is_retried_then_provider_unavailable() -> None:
    adapter, seen, waits = provider(*(httpx.Response(503, headers={"retry-after": "1"}) for _ in range(4)))
    with pytest.raises(ProviderUnavailable, match="not answering"):
        adapter.generate(request())
    assert len(seen) == 4 and len(waits) == 3


def test_a_5xx_that_may_have_generated_is_not_sent_again() -> None:
    adapter, seen, _ = provider(httpx.Response(503), httpx.Response(200, json=RECORDED["ok"]))
    with pytest.raises(ProviderUnavailable) as caught:
        adapter.generate(request())
    assert len(seen) == 1 and caught.value.details["may_have_started"] is True


def test_models_of_other_providers_are_unsupported() -> None:
    adapter, seen, _ = provider()
    with pytest.raises(Unsupported):
        adapter.generate(GenerateRequest(prompt="x", model="flux-krea-dev", width=512, height=512))
    assert seen == []

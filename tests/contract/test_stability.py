"""Contract of the Stability adapter: the exact request of every endpoint (URL, method, headers, multipart
parts) and the parsing of Stability's documented answers (REST v2beta). Plus the API-key lookup
(SSM SecureString and Secrets Manager, through moto)."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from moto import mock_aws

from imagestudio.config import environment_view
from imagestudio.errors import ContentRejected
from imagestudio.providers import keys
from imagestudio.providers.base import (
    ControlRequest,
    EditRequest,
    Failed,
    GenerateRequest,
    Media,
    ProviderRejected,
    ProviderUnavailable,
    Running,
    Submitted,
    Succeeded,
    ThreeDRequest,
    Unsupported,
    UpscaleRequest,
)
from imagestudio.providers.stability import StabilityProvider, nearest_aspect_ratio
from tests.http_fakes import Recorder

RECORDED = json.loads((Path(__file__).parent / "recorded" / "stability_responses.json").read_text())
BASE = "https://api.stability.ai"
KEY = "sk-test-0123456789"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) + b"\r\n--not-a-boundary\r\n"
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x01" * 40
GLB = b"glTF\x02\x00\x00\x00" + b"\x00" * 40
JOB_ID = RECORDED["async_submitted"]["id"]


# ----------------------------------------------------------------------------- helpers


@dataclass
class Form:
    fields: dict[str, str]
    files: dict[str, tuple[str, str, bytes]]  # name -> (filename, content type, bytes)


def parse_form(request: httpx.Request) -> Form:
    """A strict multipart/form-data parser: every part, byte for byte, no duplicates."""
    content_type = request.headers["content-type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    boundary = content_type.split("boundary=", 1)[1].encode()
    body = request.read()
    assert body.endswith(b"--" + boundary + b"--\r\n")
    form = Form({}, {})
    for chunk in body.split(b"--" + boundary)[1:-1]:
        assert chunk.startswith(b"\r\n") and chunk.endswith(b"\r\n")
        head, _, content = chunk[2:-2].partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n"))
        disposition = headers["Content-Disposition"]
        name = disposition.split('name="', 1)[1].split('"', 1)[0]
        assert name not in form.fields and name not in form.files, f"duplicate part {name}"
        if 'filename="' in disposition:
            filename = disposition.split('filename="', 1)[1].split('"', 1)[0]
            form.files[name] = (filename, headers.get("Content-Type", ""), content)
        else:
            assert "Content-Type" not in headers
            form.fields[name] = content.decode()
    return form


class Fake(Recorder):
    """A Stability stand-in: answers queued responses in order and keeps every request and every wait."""

    def __init__(self, answers: list[httpx.Response | Exception]) -> None:
        super().__init__(*answers)
        self.waits: list[float] = []

    @property
    def seen(self) -> list[httpx.Request]:
        return self.requests

    def provider(self, api_key: Any = KEY) -> StabilityProvider:
        return StabilityProvider(api_key, http=self.client(), sleep=self.waits.append)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


def stability(*answers: httpx.Response | Exception) -> tuple[StabilityProvider, Fake]:
    fake = Fake(list(answers))
    return fake.provider(), fake


def image_answer(
    data: bytes = PNG, mime: str = "image/png", *, seed: str = "42", finish: str = "SUCCESS"
) -> httpx.Response:
    return httpx.Response(
        200,
        content=data,
        headers={"content-type": mime, "seed": seed, "finish-reason": finish, "x-request-id": "req-1"},
    )


def error_answer(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=RECORDED["errors"][str(status)], headers=headers)


def media(width: int = 1024, height: int = 1024, data: bytes = PNG, name: str = "photo.png") -> Media:
    return Media(data=data, mime="image/png", width=width, height=height, filename=name)


def assert_post(request: httpx.Request, path: str, *, accept: str = "image/*") -> Form:
    assert request.method == "POST"
    assert str(request.url) == BASE + path
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["accept"] == accept
    assert request.headers["stability-client-id"] == "image-studio-serverless"
    return parse_form(request)


def only_output(result: object) -> Any:
    assert isinstance(result, Succeeded)
    assert len(result.outputs) == 1
    return result.outputs[0]


# ----------------------------------------------------------------------------- generate


@pytest.mark.parametrize(
    ("model", "path", "sd3_model"),
    [
        ("stable-image-ultra", "/v2beta/stable-image/generate/ultra", None),
        ("stable-image-core", "/v2beta/stable-image/generate/core", None),
        ("sd3.5-large", "/v2beta/stable-image/generate/sd3", "sd3.5-large"),
        ("sd3.5-large-turbo", "/v2beta/stable-image/generate/sd3", "sd3.5-large-turbo"),
        ("sd3.5-medium", "/v2beta/stable-image/generate/sd3", "sd3.5-medium"),
    ],
)
def test_generate_posts_the_documented_form_and_reads_image_bytes(
    model: str, path: str, sd3_model: str | None
) -> None:
    provider, fake = stability(image_answer(WEBP, "image/webp", seed="343940597"))
    result = provider.generate(
        GenerateRequest(
            prompt="a lighthouse on a cliff",
            model=model,
            width=1920,
            height=1080,
            negative_prompt="blurry",
            style_preset="photographic",
            seed=42,
            guidance_scale=4.5,
            steps=30,
            output_format="webp",
        )
    )
    form = assert_post(fake.last, path)
    expected = {
        "prompt": "a lighthouse on a cliff",
        "negative_prompt": "blurry",
        "aspect_ratio": "16:9",
        "seed": "42",
        "style_preset": "photographic",
        "output_format": "webp",
    }
    if sd3_model:
        expected |= {"model": sd3_model, "cfg_scale": "4.5"}
    assert form.fields == expected  # no steps (Stability has none), no cfg_scale outside SD3.5
    assert form.files == {}
    output = only_output(result)
    assert output.data == WEBP and output.mime == "image/webp" and output.seed == 343940597
    assert output.extra["requested_width"] == 1920 and output.extra["requested_height"] == 1080
    assert output.extra["sent_aspect_ratio"] == "16:9" and output.extra["finish_reason"] == "SUCCESS"
    assert output.width is None and output.height is None  # Stability's size, not ours: caller resizes


def test_generate_sends_only_what_was_asked() -> None:
    provider, fake = stability(image_answer())
    provider.generate(GenerateRequest(prompt="a cat", model="core", width=1024, height=1024))
    assert parse_form(fake.last).fields == {"prompt": "a cat", "aspect_ratio": "1:1", "output_format": "png"}


@pytest.mark.parametrize(
    ("width", "height", "ratio"),
    [
        (1024, 1024, "1:1"),
        (1080, 1350, "4:5"),
        (1080, 1920, "9:16"),
        (1200, 628, "16:9"),  # 1.91:1 link previews
        (2560, 1080, "21:9"),
        (1080, 2560, "9:21"),
        (1500, 1000, "3:2"),
        (1000, 1500, "2:3"),
        (1250, 1000, "5:4"),
        (4000, 1000, "21:9"),  # beyond the widest: the widest
    ],
)
def test_requested_size_maps_to_the_nearest_of_the_nine_ratios(width: int, height: int, ratio: str) -> None:
    assert nearest_aspect_ratio(width, height) == ratio


def test_generate_content_filtered_output_is_content_rejected() -> None:
    provider, _ = stability(image_answer(finish="CONTENT_FILTERED"))
    with pytest.raises(ContentRejected, match="content filter"):
        provider.generate(GenerateRequest(prompt="x", model="ultra", width=1024, height=1024))


def test_generate_parses_the_base64_json_variant() -> None:
    body = {**RECORDED["image_json"], "image": base64.b64encode(PNG).decode()}
    answer = httpx.Response(200, json=body, headers={"content-type": "application/json; type=image/png"})
    provider, _ = stability(answer)
    output = only_output(provider.generate(GenerateRequest(prompt="x", model="core", width=64, height=64)))
    assert output.data == PNG and output.mime == "image/png" and output.seed == 343940597
    filtered = {**body, "finish_reason": "CONTENT_FILTERED"}
    provider, _ = stability(httpx.Response(200, json=filtered))
    with pytest.raises(ContentRejected):
        provider.generate(GenerateRequest(prompt="x", model="core", width=64, height=64))


def test_generate_refuses_before_calling_what_stability_would_refuse() -> None:
    provider, fake = stability()
    with pytest.raises(ProviderRejected, match="style_preset 'watercolour'"):
        provider.generate(
            GenerateRequest(prompt="x", model="core", width=64, height=64, style_preset="watercolour")
        )
    with pytest.raises(ProviderRejected, match="Seed"):
        provider.generate(GenerateRequest(prompt="x", model="core", width=64, height=64, seed=2**32))
    with pytest.raises(ProviderRejected, match="'prompt'"):
        provider.generate(GenerateRequest(prompt="  ", model="core", width=64, height=64))
    with pytest.raises(Unsupported, match="wavespeed"):
        provider.generate(GenerateRequest(prompt="x", model="ideogram-v3-turbo", width=64, height=64))
    assert fake.seen == []


# ----------------------------------------------------------------------------- edit


def test_erase_sends_image_mask_and_grow_mask() -> None:
    provider, fake = stability(image_answer())
    mask = media(name="mask.png", data=PNG + b"mask")
    result = provider.edit(
        EditRequest(operation="erase", image=media(), mask=mask, grow_mask=8, seed=7, prompt="ignored")
    )
    form = assert_post(fake.last, "/v2beta/stable-image/edit/erase")
    assert form.fields == {"grow_mask": "8", "seed": "7", "output_format": "png"}
    assert form.files == {
        "image": ("photo.png", "image/png", PNG),
        "mask": ("mask.png", "image/png", PNG + b"mask"),
    }
    assert only_output(result).extra["operation"] == "erase"


def test_inpaint_sends_prompt_mask_and_options() -> None:
    provider, fake = stability(image_answer())
    provider.edit(
        EditRequest(
            operation="inpaint",
            image=Media(data=PNG, mime="image/png", width=800, height=600),
            mask=Media(data=PNG, mime="image/png"),
            prompt="a red scarf",
            negative_prompt="text",
            grow_mask=5,
            output_format="jpeg",
        )
    )
    form = assert_post(fake.last, "/v2beta/stable-image/edit/inpaint")
    assert form.fields == {
        "prompt": "a red scarf",
        "negative_prompt": "text",
        "grow_mask": "5",
        "output_format": "jpeg",
    }
    assert form.files == {"image": ("image.png", "image/png", PNG), "mask": ("mask.png", "image/png", PNG)}


def test_outpaint_sends_only_the_sides_that_grow_and_expects_the_bigger_canvas() -> None:
    provider, fake = stability(image_answer())
    result = provider.edit(
        EditRequest(
            operation="outpaint", image=media(1000, 800), left=200, down=100, creativity=0.5, prompt="sea"
        )
    )
    form = assert_post(fake.last, "/v2beta/stable-image/edit/outpaint")
    assert form.fields == {
        "left": "200",
        "down": "100",
        "creativity": "0.5",
        "prompt": "sea",
        "output_format": "png",
    }
    assert set(form.files) == {"image"}
    extra = only_output(result).extra
    assert (extra["requested_width"], extra["requested_height"]) == (1200, 900)


def test_search_and_replace_and_recolor_send_their_prompts() -> None:
    provider, fake = stability(image_answer(), image_answer())
    provider.edit(
        EditRequest(
            operation="search_replace", image=media(), prompt="a golden retriever", search_prompt="cat"
        )
    )
    form = assert_post(fake.last, "/v2beta/stable-image/edit/search-and-replace")
    assert form.fields == {"prompt": "a golden retriever", "search_prompt": "cat", "output_format": "png"}
    provider.edit(
        EditRequest(
            operation="search_recolor", image=media(), prompt="navy blue", select_prompt="sofa", grow_mask=3
        )
    )
    form = assert_post(fake.last, "/v2beta/stable-image/edit/search-and-recolor")
    assert form.fields == {
        "prompt": "navy blue",
        "select_prompt": "sofa",
        "grow_mask": "3",
        "output_format": "png",
    }
    assert set(form.files) == {"image"}


def test_remove_background_sends_the_image_and_format_only() -> None:
    provider, fake = stability(image_answer(WEBP, "image/webp"))
    result = provider.edit(
        EditRequest(operation="remove_background", image=media(), prompt="x", seed=3, output_format="webp")
    )
    form = assert_post(fake.last, "/v2beta/stable-image/edit/remove-background")
    assert form.fields == {"output_format": "webp"}
    assert set(form.files) == {"image"}
    assert only_output(result).mime == "image/webp"


def test_relight_is_asynchronous_and_maps_every_field() -> None:
    provider, fake = stability(httpx.Response(200, json=RECORDED["async_submitted"]))
    result = provider.edit(
        EditRequest(
            operation="relight",
            image=media(name="subject.png"),
            prompt="a woman in a red coat",
            negative_prompt="people",
            background_prompt="a neon-lit street at night",
            background_image=media(name="bg.png", data=PNG + b"bg"),
            lighting_image=media(name="light.png", data=PNG + b"light"),
            light_source_direction="left",
            light_source_strength=0.4,
            preserve_original_subject=0.6,
            original_background_depth=0.5,
            seed=11,
            output_format="webp",
        )
    )
    assert result == Submitted(provider_job_id=JOB_ID, poll_after=10.0)
    form = assert_post(fake.last, "/v2beta/stable-image/edit/replace-background-and-relight")
    assert form.fields == {
        "background_prompt": "a neon-lit street at night",
        "foreground_prompt": "a woman in a red coat",
        "negative_prompt": "people",
        "preserve_original_subject": "0.6",
        "original_background_depth": "0.5",
        "light_source_direction": "left",
        "light_source_strength": "0.4",
        "seed": "11",
        "output_format": "webp",
    }
    assert form.files == {
        "subject_image": ("subject.png", "image/png", PNG),
        "background_reference": ("bg.png", "image/png", PNG + b"bg"),
        "light_reference": ("light.png", "image/png", PNG + b"light"),
    }


def test_relight_submitted_with_202_is_also_a_job() -> None:
    provider, _ = stability(httpx.Response(202, json=RECORDED["async_submitted"]))
    result = provider.edit(EditRequest(operation="relight", image=media(), background_prompt="beach"))
    assert isinstance(result, Submitted) and result.provider_job_id == JOB_ID


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (EditRequest(operation="general_edit", image=media(), prompt="x"), "does not offer edit"),
        (EditRequest(operation="inpaint", image=media()), "needs 'prompt'"),
        (EditRequest(operation="search_replace", image=media(), prompt="dog"), "needs 'search_prompt'"),
        (EditRequest(operation="search_recolor", image=media(), prompt="red"), "needs 'select_prompt'"),
        (
            EditRequest(
                operation="search_replace", image=media(), prompt="a", search_prompt="b", mask=media()
            ),
            "takes no mask",
        ),
        (EditRequest(operation="outpaint", image=media()), "at least one of left, right, up, down"),
        (EditRequest(operation="remove_background", image=media(), output_format="jpeg"), "png or webp"),
        (EditRequest(operation="relight", image=media(), lighting_image=media()), "background_prompt"),
        (
            EditRequest(operation="relight", image=media(), background_prompt="a", light_source_strength=0.5),
            "light_source_strength",
        ),
        (
            EditRequest(operation="inpaint", image=media(), prompt="x", model="qwen-edit"),
            "served by wavespeed",
        ),
    ],
)
def test_edit_refusals_happen_before_any_call(request_: EditRequest, message: str) -> None:
    provider, fake = stability()
    with pytest.raises((ProviderRejected, Unsupported), match=message):
        provider.edit(request_)
    assert fake.seen == []


# ----------------------------------------------------------------------------- upscale


def test_fast_upscale_sends_the_image_only() -> None:
    provider, fake = stability(image_answer())
    result = provider.upscale(
        UpscaleRequest(mode="fast", image=media(512, 512), prompt="ignored", target_long_side=2048)
    )
    form = assert_post(fake.last, "/v2beta/stable-image/upscale/fast")
    assert form.fields == {"output_format": "png"}
    assert set(form.files) == {"image"}
    assert only_output(result).extra == {
        "mode": "fast",
        "requested_long_side": 2048,
        "finish_reason": "SUCCESS",
        "request_id": "req-1",
    }


def test_conservative_upscale_uses_the_default_prompt_when_none_given() -> None:
    provider, fake = stability(image_answer(), image_answer())
    provider.upscale(UpscaleRequest(mode="conservative", image=media(), creativity=0.35, seed=5))
    form = assert_post(fake.last, "/v2beta/stable-image/upscale/conservative")
    assert form.fields == {
        "prompt": "High fidelity upscale preserving original details",
        "seed": "5",
        "creativity": "0.35",
        "output_format": "png",
    }
    provider.upscale(UpscaleRequest(mode="conservative", image=media(), prompt="a sharp portrait"))
    assert parse_form(fake.last).fields["prompt"] == "a sharp portrait"


def test_creative_upscale_submits_then_polls_results_to_completion() -> None:
    provider, fake = stability(
        httpx.Response(200, json=RECORDED["async_submitted"]),
        httpx.Response(202, json=RECORDED["results_in_progress"]),
        image_answer(WEBP, "image/webp", seed="99"),
    )
    submitted = provider.upscale(
        UpscaleRequest(
            mode="creative", image=media(1000, 1000), negative_prompt="noise", output_format="webp"
        )
    )
    assert submitted == Submitted(provider_job_id=JOB_ID, poll_after=10.0)
    form = assert_post(fake.last, "/v2beta/stable-image/upscale/creative")
    assert form.fields == {
        "prompt": "Creative upscale with enhanced artistic details",
        "negative_prompt": "noise",
        "output_format": "webp",
    }

    assert provider.poll(JOB_ID) == Running(poll_after=10.0)
    get = fake.last
    assert get.method == "GET" and str(get.url) == f"{BASE}/v2beta/results/{JOB_ID}"
    assert get.headers["authorization"] == f"Bearer {KEY}" and get.headers["accept"] == "*/*"
    assert not get.content

    done = provider.poll(JOB_ID)
    assert isinstance(done, Succeeded) and done.provider_job_id == JOB_ID
    assert (
        done.outputs[0].data == WEBP and done.outputs[0].mime == "image/webp" and done.outputs[0].seed == 99
    )
    assert len(fake.seen) == 3


@pytest.mark.parametrize(
    ("request_", "limit"),
    [
        (UpscaleRequest(mode="fast", image=media(2000, 500)), "every side at most 1,536 px"),
        (UpscaleRequest(mode="fast", image=media(1200, 1000)), "at most 1,048,576 pixels"),
        (UpscaleRequest(mode="fast", image=media(20, 100)), "every side at least 32 px"),
        (UpscaleRequest(mode="conservative", image=media(4000, 3000)), "at most 9,437,184 pixels"),
        (UpscaleRequest(mode="conservative", image=media(50, 100)), "every side at least 64 px"),
        (UpscaleRequest(mode="conservative", image=media(3000, 1000)), "aspect ratio of at most 2.5:1"),
        (UpscaleRequest(mode="creative", image=media(1100, 1000)), "at most 1,048,576 pixels"),
    ],
)
def test_upscale_input_limits_are_checked_before_the_call(request_: UpscaleRequest, limit: str) -> None:
    provider, fake = stability()
    with pytest.raises(ProviderRejected, match=limit) as caught:
        provider.upscale(request_)
    assert caught.value.details["field"] == "image"
    assert fake.seen == []


def test_edit_and_control_limits_aspect_and_request_size() -> None:
    provider, fake = stability()
    with pytest.raises(ProviderRejected, match=r"at least 1:2\.5"):
        provider.edit(EditRequest(operation="outpaint", image=media(400, 1200), up=10))
    with pytest.raises(ProviderRejected, match="at most 4,194,304 pixels"):
        provider.edit(EditRequest(operation="remove_background", image=media(3000, 2000)))
    with pytest.raises(ProviderRejected, match="up to 10 MB"):
        big = Media(
            data=b"\x00" * (10 * 1024 * 1024 + 1), mime="image/png"
        )  # size unknown: bytes still count
        provider.control(ControlRequest(operation="sketch", image=big, prompt="a house"))
    assert fake.seen == []


# ----------------------------------------------------------------------------- control


@pytest.mark.parametrize("operation", ["sketch", "structure"])
def test_sketch_and_structure_send_control_strength(operation: str) -> None:
    provider, fake = stability(image_answer())
    provider.control(
        ControlRequest(
            operation=operation,  # type: ignore[arg-type]
            image=media(),
            prompt="a cottage",
            negative_prompt="people",
            control_strength=0.7,
            seed=1,
        )
    )
    form = assert_post(fake.last, f"/v2beta/stable-image/control/{operation}")
    assert form.fields == {
        "prompt": "a cottage",
        "control_strength": "0.7",
        "negative_prompt": "people",
        "seed": "1",
        "output_format": "png",
    }
    assert set(form.files) == {"image"}


def test_style_sends_fidelity_and_a_stability_aspect_ratio() -> None:
    provider, fake = stability(image_answer(), image_answer())
    provider.control(
        ControlRequest(operation="style", image=media(), prompt="a fox", fidelity=0.5, aspect_ratio="16:9")
    )
    form = assert_post(fake.last, "/v2beta/stable-image/control/style")
    assert form.fields == {
        "prompt": "a fox",
        "aspect_ratio": "16:9",
        "fidelity": "0.5",
        "output_format": "png",
    }
    provider.control(ControlRequest(operation="style", image=media(), prompt="a fox", aspect_ratio="1.91:1"))
    assert parse_form(fake.last).fields["aspect_ratio"] == "16:9"


def test_style_transfer_sends_both_images_and_strengths() -> None:
    provider, fake = stability(image_answer())
    provider.control(
        ControlRequest(
            operation="style_transfer",
            image=media(name="content.png"),
            style_image=media(name="style.png", data=PNG + b"style"),
            style_strength=1.0,
            composition_fidelity=0.9,
            change_strength=0.9,
        )
    )
    form = assert_post(fake.last, "/v2beta/stable-image/control/style-transfer")
    assert form.fields == {
        "style_strength": "1",
        "composition_fidelity": "0.9",
        "change_strength": "0.9",
        "output_format": "png",
    }
    assert form.files == {
        "init_image": ("content.png", "image/png", PNG),
        "style_image": ("style.png", "image/png", PNG + b"style"),
    }


def test_control_refusals() -> None:
    provider, fake = stability()
    with pytest.raises(ProviderRejected, match="style_image"):
        provider.control(ControlRequest(operation="style_transfer", image=media()))
    with pytest.raises(ProviderRejected, match="needs 'prompt'"):
        provider.control(ControlRequest(operation="sketch", image=media()))
    with pytest.raises(ProviderRejected, match="aspect ratio"):
        provider.control(ControlRequest(operation="style", image=media(), prompt="x", aspect_ratio="wide"))
    assert fake.seen == []


# ----------------------------------------------------------------------------- 3D


def test_stable_fast_3d_sends_catalog_defaults_and_returns_glb() -> None:
    glb = httpx.Response(200, content=GLB, headers={"content-type": "model/gltf-binary"})
    provider, fake = stability(glb)
    result = provider.image_to_3d(
        ThreeDRequest(image=media(), model="stable-fast-3d", guidance_scale=5, seed=3)
    )
    form = assert_post(fake.last, "/v2beta/3d/stable-fast-3d", accept="*/*")
    assert form.fields == {"texture_resolution": "1024", "foreground_ratio": "0.85", "remesh": "none"}
    assert set(form.files) == {"image"}
    output = only_output(result)
    assert (
        output.mime == "model/gltf-binary"
        and output.data == GLB
        and output.extra["model"] == "stable-fast-3d"
    )


def test_spar3d_sends_guidance_and_seed() -> None:
    provider, fake = stability(
        httpx.Response(200, content=GLB, headers={"content-type": "model/gltf-binary"})
    )
    provider.image_to_3d(
        ThreeDRequest(image=media(), model="spar3d", texture_resolution=2048, remesh="quad", seed=9)
    )
    form = assert_post(fake.last, "/v2beta/3d/stable-point-aware-3d", accept="*/*")
    assert form.fields == {
        "texture_resolution": "2048",
        "foreground_ratio": "1.3",
        "remesh": "quad",
        "guidance_scale": "3",
        "seed": "9",
    }


def test_3d_limits() -> None:
    provider, fake = stability()
    with pytest.raises(ProviderRejected, match="texture_resolution 300"):
        provider.image_to_3d(ThreeDRequest(image=media(), model="stable-fast-3d", texture_resolution=300))
    with pytest.raises(ProviderRejected, match="at most 4,194,304 pixels"):
        provider.image_to_3d(ThreeDRequest(image=media(2100, 2100), model="stable-fast-3d"))
    assert fake.seen == []


# ----------------------------------------------------------------------------- errors


def test_400_names_what_stability_said() -> None:
    provider, fake = stability(error_answer(400))
    with pytest.raises(ProviderRejected, match="prompt: Required") as caught:
        provider.generate(GenerateRequest(prompt="x", model="core", width=64, height=64))
    assert caught.value.details["status"] == 400 and len(fake.seen) == 1  # never retried


def test_403_moderation_is_content_rejected() -> None:
    provider, _ = stability(error_answer(403))
    with pytest.raises(ContentRejected, match="flagged by our content moderation"):
        provider.edit(EditRequest(operation="inpaint", image=media(), prompt="x"))


@pytest.mark.parametrize("status", [413, 422])
def test_413_and_422_are_the_inputs_fault(status: int) -> None:
    provider, fake = stability(error_answer(status))
    with pytest.raises(ProviderRejected):
        provider.upscale(UpscaleRequest(mode="fast", image=media(512, 512)))
    assert len(fake.seen) == 1


def test_429_is_retried_after_the_hinted_wait_then_succeeds() -> None:
    provider, fake = stability(error_answer(429, **{"retry-after": "3"}), image_answer())
    result = provider.generate(GenerateRequest(prompt="x", model="core", width=64, height=64))
    assert isinstance(result, Succeeded)
    assert fake.waits == [3.0] and len(fake.seen) == 2
    assert parse_form(fake.seen[0]).fields == parse_form(fake.seen[1]).fields  # the same request again


def test_a_500_on_a_paid_post_is_not_sent_again() -> None:
    provider, fake = stability(*(error_answer(500) for _ in range(4)))
    with pytest.raises(ProviderUnavailable, match="HTTP 500") as caught:
        provider.generate(GenerateRequest(prompt="x", model="core", width=64, height=64))
    assert len(fake.seen) == 1 and fake.waits == [] and caught.value.details["may_have_started"] is True


def test_connection_errors_are_retried() -> None:
    request = httpx.Request("POST", BASE)
    provider, fake = stability(httpx.ConnectError("refused", request=request), image_answer())
    assert isinstance(provider.upscale(UpscaleRequest(mode="fast", image=media(512, 512))), Succeeded)
    provider, fake = stability(*(httpx.ConnectError("refused", request=request) for _ in range(4)))
    with pytest.raises(ProviderUnavailable, match="ConnectError"):
        provider.upscale(UpscaleRequest(mode="fast", image=media(512, 512)))
    assert len(fake.seen) == 4


def test_401_is_ours_to_fix() -> None:
    provider, _ = stability(
        httpx.Response(401, json={"id": "x", "name": "unauthorized", "errors": ["bad key"]})
    )
    with pytest.raises(ProviderUnavailable, match="misconfigured"):
        provider.generate(GenerateRequest(prompt="x", model="core", width=64, height=64))


@pytest.mark.parametrize(
    ("answer", "code", "retryable"),
    [
        (error_answer(404), "not_found", False),
        (error_answer(400), "provider_rejected_input", False),
        (error_answer(403), "content_rejected", False),
        (image_answer(finish="CONTENT_FILTERED"), "content_rejected", False),
        (
            httpx.Response(401, json={"name": "unauthorized", "errors": ["bad key"]}),
            "provider_unavailable",
            True,
        ),
    ],
)
def test_poll_turns_4xx_results_into_failed(answer: httpx.Response, code: str, retryable: bool) -> None:
    provider, _ = stability(answer)
    result = provider.poll(JOB_ID)
    assert isinstance(result, Failed)
    assert (result.code, result.retryable) == (code, retryable)


def test_poll_outage_raises_so_the_job_polls_again_later() -> None:
    provider, fake = stability(*(error_answer(500) for _ in range(4)))
    with pytest.raises(ProviderUnavailable):
        provider.poll(JOB_ID)
    assert len(fake.seen) == 4


def test_the_key_is_fetched_per_call_and_a_missing_key_sends_nothing() -> None:
    fake = Fake([image_answer()])
    calls: list[int] = []

    def key() -> str:
        calls.append(1)
        return KEY

    fake.provider(key).generate(GenerateRequest(prompt="x", model="core", width=64, height=64))
    assert calls == [1] and fake.last.headers["authorization"] == f"Bearer {KEY}"

    def missing() -> str:
        raise ProviderUnavailable("stability is not configured")

    with pytest.raises(ProviderUnavailable, match="not configured"):
        Fake([]).provider(missing).generate(GenerateRequest(prompt="x", model="core", width=64, height=64))


# ----------------------------------------------------------------------------- API keys


@pytest.fixture
def aws(aws_env: None) -> Iterator[None]:
    keys.reset()
    with mock_aws():
        yield
    keys.reset()


def test_locate_reads_the_reference_forms() -> None:
    assert keys.locate("ssm:/is/prod/stability") == ("ssm", "/is/prod/stability")
    assert keys.locate("/is/prod/stability") == ("ssm", "/is/prod/stability")
    assert keys.locate("arn:aws:ssm:eu-west-1:123456789012:parameter/is/k") == (
        "ssm",
        "arn:aws:ssm:eu-west-1:123456789012:parameter/is/k",
    )
    assert keys.locate("secretsmanager:is/stability") == ("secretsmanager", "is/stability")
    assert keys.locate("arn:aws:secretsmanager:eu-west-1:1:secret:x-AbCdEf")[0] == "secretsmanager"
    assert keys.locate("is/stability") == ("secretsmanager", "is/stability")
    assert keys.env_var("stability") == "STABILITY_API_KEY_PARAMETER"


@pytest.mark.parametrize("reference", ["/is/test/stability", "ssm:/is/test/stability"])
def test_key_from_an_ssm_securestring(aws: None, reference: str, monkeypatch: pytest.MonkeyPatch) -> None:
    boto3.client("ssm").put_parameter(Name="/is/test/stability", Value=KEY, Type="SecureString")
    monkeypatch.setenv("STABILITY_API_KEY_PARAMETER", reference)
    assert keys.api_key("stability") == KEY


def test_key_from_secrets_manager_plain_json_and_arn(aws: None) -> None:
    sm = boto3.client("secretsmanager")
    sm.create_secret(Name="is/stability", SecretString=KEY)
    arn = sm.create_secret(Name="is/wavespeed", SecretString=json.dumps({"api_key": "ws-key"}))["ARN"]
    with environment_view({"STABILITY_API_KEY_PARAMETER": "secretsmanager:is/stability"}):
        assert keys.api_key("stability") == KEY
    with environment_view(
        {"STABILITY_API_KEY_PARAMETER": "is/stability", "WAVESPEED_API_KEY_PARAMETER": arn}
    ):
        assert keys.api_key("stability") == KEY
        assert keys.api_key("wavespeed") == "ws-key"


def test_keys_are_cached_until_reset(aws: None) -> None:
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name="/is/k", Value="old", Type="SecureString")
    with environment_view({"STABILITY_API_KEY_PARAMETER": "/is/k"}):
        assert keys.api_key("stability") == "old"
        ssm.put_parameter(Name="/is/k", Value="new", Type="SecureString", Overwrite=True)
        assert keys.api_key("stability") == "old"  # within max_age: no second AWS call
        keys.reset()
        assert keys.api_key("stability") == "new"


def test_missing_configuration_is_provider_unavailable_and_never_logs_the_key(
    aws: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="imagestudio")
    with (
        environment_view({"STABILITY_API_KEY_PARAMETER": ""}),
        pytest.raises(ProviderUnavailable, match="STABILITY_API_KEY_PARAMETER"),
    ):
        keys.api_key("stability")
    with (
        environment_view({"STABILITY_API_KEY_PARAMETER": "/is/absent"}),
        pytest.raises(
            ProviderUnavailable, match="not configured: its API key could not be read from ssm '/is/absent'"
        ),
    ):
        keys.api_key("stability")
    boto3.client("secretsmanager").create_secret(Name="is/empty", SecretString=json.dumps({"token": KEY}))
    with (
        environment_view({"STABILITY_API_KEY_PARAMETER": "is/empty"}),
        pytest.raises(ProviderUnavailable, match="holds no API key") as caught,
    ):
        keys.api_key("stability")
    assert KEY not in caught.value.message and KEY not in json.dumps(caught.value.details)
    boto3.client("ssm").put_parameter(Name="/is/ok", Value=KEY, Type="SecureString")
    with environment_view({"STABILITY_API_KEY_PARAMETER": "/is/ok"}):
        assert keys.api_key("stability") == KEY
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("imagestudio")]
    assert ours and not any(KEY in line for line in ours)  # botocore's own DEBUG wire log is not ours


def test_the_adapter_authenticates_with_the_stored_key(aws: None) -> None:
    boto3.client("ssm").put_parameter(Name="/is/stability", Value=KEY, Type="SecureString")
    fake = Fake([image_answer()])
    with environment_view({"STABILITY_API_KEY_PARAMETER": "/is/stability"}):
        fake.provider(lambda: keys.api_key("stability")).generate(
            GenerateRequest(prompt="x", model="core", width=64, height=64)
        )
    assert fake.last.headers["authorization"] == f"Bearer {KEY}"

"""WaveSpeed contract: the exact request each model and capability sends, and how documented answers
(submit, sync, poll, failures, HTTP errors) are read. Answers are recorded shapes, never the network."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from imagestudio.errors import ContentRejected, InvalidInput
from imagestudio.providers.base import (
    AvatarRequest,
    EditRequest,
    FaceSwapRequest,
    Failed,
    GenerateRequest,
    Media,
    ProviderRejected,
    ProviderUnavailable,
    Running,
    Submitted,
    Succeeded,
    Unsupported,
    VideoRequest,
)
from imagestudio.providers.wavespeed import WaveSpeedProvider
from tests.http_fakes import Recorder

RECORDED = json.loads((Path(__file__).parent / "recorded" / "wavespeed_responses.json").read_text())
BASE = "https://api.wavespeed.ai/api/v3"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 24
PNG_URI = "data:image/png;base64," + base64.b64encode(PNG).decode()
JPEG_URI = "data:image/jpeg;base64," + base64.b64encode(JPEG).decode()


def answer(name: str, **data: Any) -> httpx.Response:
    body = copy.deepcopy(RECORDED[name])
    body.get("data", {}).update(data)
    return httpx.Response(200, json=body)


def provider(
    *responses: httpx.Response | Exception, **options: Any
) -> tuple[WaveSpeedProvider, Recorder, list]:
    recorder = Recorder(*responses)
    waits: list[float] = []
    adapter = WaveSpeedProvider("ws-key", http=recorder.client(), sleep=waits.append, **options)
    return adapter, recorder, waits


def assert_post(recorder: Recorder, index: int, path: str, body: dict[str, Any]) -> None:
    request = recorder.requests[index]
    assert request.method == "POST"
    assert str(request.url) == f"{BASE}/{path}"
    assert request.headers["authorization"] == "Bearer ws-key"
    assert request.headers["content-type"] == "application/json"
    assert recorder.json(index) == body


def image(width: int | None = 1920, height: int | None = 1080, data: bytes = PNG) -> Media:
    return Media(data=data, mime="image/png", width=width, height=height)


# ----------------------------------------------------------------------------- text-to-image


def test_ideogram_v3_turbo_is_submitted_async_with_the_nearest_aspect_ratio() -> None:
    adapter, recorder, _ = provider(answer("submitted"))
    result = adapter.generate(
        GenerateRequest(
            prompt="Summer sale poster",
            model="ideogram-v3-turbo",
            width=1920,
            height=1080,
            style_preset="photographic",
            seed=5,
            negative_prompt="blurry",
        )
    )
    assert result == Submitted(provider_job_id="pred_abc123", poll_after=2.0)
    assert_post(
        recorder,
        0,
        "ideogram-ai/ideogram-v3-turbo",
        {"prompt": "Summer sale poster", "aspect_ratio": "16:9", "style": "Realistic"},
    )


def test_qwen_image_sync_mode_sends_the_nearest_accepted_size_and_records_the_request() -> None:
    adapter, recorder, _ = provider(answer("completed"))
    result = adapter.generate(
        GenerateRequest(prompt="A fox", model="qwen-image", width=1920, height=1080, seed=7, steps=15)
    )
    assert_post(
        recorder,
        0,
        "wavespeed-ai/qwen-image/text-to-image",
        {"prompt": "A fox", "size": "1024*576", "seed": 7, "enable_sync_mode": True},
    )
    assert isinstance(result, Succeeded) and result.provider_job_id == "pred_abc123"
    (output,) = result.outputs
    assert output.url == "https://cdn.wavespeed.ai/generated/image123.png"
    assert output.data is None and output.mime == "image/png"
    assert output.extra == {
        "requested_width": 1920,
        "requested_height": 1080,
        "sent_width": 1024,
        "sent_height": 576,
        "ignored_fields": ["steps"],
    }


def test_flux_kontext_pro_text_to_image_uses_its_text_to_image_endpoint() -> None:
    adapter, recorder, _ = provider(answer("completed"))
    adapter.generate(
        GenerateRequest(prompt="Logo", model="flux-kontext-pro", width=1024, height=1024, seed=3)
    )
    assert_post(
        recorder,
        0,
        "wavespeed-ai/flux-kontext-pro/text-to-image",
        {
            "prompt": "Logo",
            "aspect_ratio": "1:1",
            "num_images": 1,
            "guidance_scale": 3.5,
            "seed": 3,
            "enable_sync_mode": True,
        },
    )


def test_sync_off_never_sends_enable_sync_mode() -> None:
    adapter, recorder, _ = provider(answer("submitted"), sync=False)
    result = adapter.generate(GenerateRequest(prompt="A fox", model="qwen-image", width=512, height=512))
    assert isinstance(result, Submitted)
    assert recorder.json(0) == {"prompt": "A fox", "size": "512*512"}


def test_models_of_other_providers_and_unknown_shapes_are_unsupported() -> None:
    adapter, recorder, _ = provider()
    with pytest.raises(Unsupported):
        adapter.generate(GenerateRequest(prompt="x", model="imagen-4", width=512, height=512))
    with pytest.raises(Unsupported, match="step1x-edit"):
        adapter.edit(EditRequest(operation="general_edit", image=image(), model="step1x-edit", prompt="x"))
    with pytest.raises(Unsupported):
        adapter.edit(EditRequest(operation="inpaint", image=image(), prompt="x"))
    assert recorder.requests == []


# ----------------------------------------------------------------------------- sync fallback and polling


def test_sync_answer_still_processing_falls_back_to_polling() -> None:
    adapter, recorder, _ = provider(
        answer("sync_timed_out"),
        answer("processing", id="pred_slow77"),
        answer("completed", id="pred_slow77"),
    )
    result = adapter.generate(GenerateRequest(prompt="A fox", model="qwen-image", width=1024, height=1024))
    assert result == Submitted(provider_job_id="pred_slow77", poll_after=2.0)

    assert adapter.poll("pred_slow77") == Running(poll_after=5.0)
    done = adapter.poll("pred_slow77")
    assert isinstance(done, Succeeded) and done.provider_job_id == "pred_slow77"
    assert [o.url for o in done.outputs] == ["https://cdn.wavespeed.ai/generated/image123.png"]
    for request in recorder.requests[1:]:
        assert request.method == "GET"
        assert str(request.url) == f"{BASE}/predictions/pred_slow77/result"
        assert request.headers["authorization"] == "Bearer ws-key"


def test_poll_reads_object_outputs_failures_and_unknown_jobs() -> None:
    adapter, _, _ = provider(
        answer("completed_video"),
        answer("failed"),
        answer("failed_nsfw"),
        httpx.Response(404, json={"code": 404, "message": "prediction not found"}),
        answer("submitted"),
    )
    video = adapter.poll("pred_vid42")
    assert isinstance(video, Succeeded)
    assert video.outputs[0].url == "https://cdn.wavespeed.ai/generated/video42.mp4"
    assert video.outputs[0].mime == "video/mp4"
    assert adapter.poll("pred_abc123") == Failed(
        "provider_failed", "Internal server error, please retry", retryable=True
    )
    nsfw = adapter.poll("pred_abc123")
    assert isinstance(nsfw, Failed) and nsfw.code == "content_rejected" and not nsfw.retryable
    gone = adapter.poll("pred_gone")
    assert isinstance(gone, Failed) and gone.code == "provider_job_not_found"
    assert isinstance(adapter.poll("pred_abc123"), Running)  # "created" is still running


def test_sync_429_is_resubmitted_async_honouring_retry_after() -> None:
    adapter, recorder, waits = provider(
        httpx.Response(429, headers={"retry-after": "3"}, json={"code": 429, "message": "rate limited"}),
        httpx.Response(429, headers={"retry-after": "2"}, json={"code": 429, "message": "rate limited"}),
        answer("submitted"),
    )
    result = adapter.generate(GenerateRequest(prompt="A fox", model="qwen-image", width=1024, height=1024))
    assert result == Submitted(provider_job_id="pred_abc123", poll_after=2.0)
    assert recorder.json(0)["enable_sync_mode"] is True
    assert recorder.json(1) == recorder.json(2) == {"prompt": "A fox", "size": "1024*1024"}
    assert waits == [2.0]  # nothing started on the sync 429; the async 429 is retried after its hint


def test_sync_gateway_timeout_is_not_resent_because_a_paid_task_may_have_started() -> None:
    adapter, recorder, _ = provider(httpx.Response(504), answer("submitted"))
    with pytest.raises(ProviderUnavailable) as caught:
        adapter.generate(GenerateRequest(prompt="A fox", model="qwen-image", width=1024, height=1024))
    assert caught.value.details["may_have_started"] is True
    assert len(recorder.requests) == 1


def test_sync_read_timeout_is_not_resent() -> None:
    adapter, recorder, _ = provider(httpx.ReadTimeout("slow"), answer("submitted"))
    with pytest.raises(ProviderUnavailable):
        adapter.edit(EditRequest(operation="general_edit", image=image(), model="qwen-edit", prompt="red"))
    assert len(recorder.requests) == 1


def test_async_submit_is_not_resent_after_a_5xx_but_is_after_a_429() -> None:
    adapter, recorder, waits = provider(
        httpx.Response(500), httpx.Response(502), httpx.Response(503), httpx.Response(504)
    )
    with pytest.raises(ProviderUnavailable) as caught:
        adapter.generate(GenerateRequest(prompt="x", model="ideogram-v3-turbo", width=1024, height=1024))
    assert len(recorder.requests) == 1 and waits == [] and caught.value.details["may_have_started"] is True
    adapter, recorder, waits = provider(
        httpx.Response(429), httpx.Response(429), httpx.Response(429), httpx.Response(429)
    )
    with pytest.raises(ProviderUnavailable, match="not answering"):
        adapter.generate(GenerateRequest(prompt="x", model="ideogram-v3-turbo", width=1024, height=1024))
    assert len(recorder.requests) == 4 and len(waits) == 3


def test_http_errors_are_mapped() -> None:
    adapter, _, _ = provider(httpx.Response(400, json=RECORDED["bad_request"]))
    with pytest.raises(ProviderRejected, match="prompt is required"):
        adapter.generate(GenerateRequest(prompt="", model="ideogram-v3-turbo", width=1024, height=1024))
    adapter, _, _ = provider(httpx.Response(401, json={"code": 401, "message": "invalid api key"}))
    with pytest.raises(ProviderUnavailable):
        adapter.generate(GenerateRequest(prompt="x", model="ideogram-v3-turbo", width=1024, height=1024))
    adapter, _, _ = provider(httpx.Response(403, json={"code": 403, "message": "forbidden"}))
    with pytest.raises(ProviderUnavailable, match="credentials"):
        adapter.generate(GenerateRequest(prompt="x", model="ideogram-v3-turbo", width=1024, height=1024))
    adapter, _, _ = provider(httpx.Response(403, json={"code": 403, "message": "NSFW content detected"}))
    with pytest.raises(ContentRejected):
        adapter.generate(GenerateRequest(prompt="x", model="ideogram-v3-turbo", width=1024, height=1024))
    adapter, _, _ = provider(httpx.Response(200, json=RECORDED["bad_request"]))  # error inside a 200
    with pytest.raises(ProviderRejected, match="prompt is required"):
        adapter.generate(GenerateRequest(prompt="", model="ideogram-v3-turbo", width=1024, height=1024))
    adapter, _, _ = provider(httpx.Response(404, json={"code": 404, "message": "model not found"}))
    with pytest.raises(ProviderUnavailable, match="model path"):
        adapter.generate(GenerateRequest(prompt="x", model="ideogram-v3-turbo", width=1024, height=1024))


def test_a_sync_failure_raises_by_its_reason() -> None:
    adapter, _, _ = provider(answer("failed_nsfw"))
    with pytest.raises(ContentRejected):
        adapter.generate(GenerateRequest(prompt="x", model="qwen-image", width=1024, height=1024))
    adapter, _, _ = provider(answer("failed"))
    with pytest.raises(ProviderUnavailable):
        adapter.generate(GenerateRequest(prompt="x", model="qwen-image", width=1024, height=1024))


def test_api_key_callable_is_read_per_request() -> None:
    calls: list[int] = []

    def key() -> str:
        calls.append(1)
        return "rotated"

    recorder = Recorder(answer("submitted"))
    adapter = WaveSpeedProvider(key, http=recorder.client())
    assert calls == []
    adapter.generate(GenerateRequest(prompt="x", model="ideogram-v3-turbo", width=1024, height=1024))
    assert recorder.requests[0].headers["authorization"] == "Bearer rotated" and calls == [1]


# ----------------------------------------------------------------------------- edits


def test_qwen_edit_sends_one_data_uri_image() -> None:
    adapter, recorder, _ = provider(answer("completed"))
    result = adapter.edit(
        EditRequest(operation="general_edit", image=image(), model="qwen-edit", prompt="make it red", seed=9)
    )
    assert_post(
        recorder,
        0,
        "wavespeed-ai/qwen-image/edit",
        {
            "prompt": "make it red",
            "image": PNG_URI,
            "seed": 9,
            "output_format": "png",
            "enable_sync_mode": True,
        },
    )
    assert isinstance(result, Succeeded)
    assert result.outputs[0].extra == {"requested_width": 1920, "requested_height": 1080}


def test_edit_defaults_to_the_providers_default_edit_model() -> None:
    adapter, recorder, _ = provider(answer("completed"))
    adapter.edit(EditRequest(operation="general_edit", image=image(), prompt="x"))
    assert str(recorder.requests[0].url) == f"{BASE}/wavespeed-ai/qwen-image/edit"


def test_qwen_edit_plus_sends_all_images_in_order() -> None:
    adapter, recorder, _ = provider(answer("completed"))
    reference = Media(data=JPEG, mime="image/jpeg", width=800, height=800)
    adapter.edit(
        EditRequest(
            operation="general_edit",
            image=image(),
            model="qwen-edit-plus",
            prompt="wear this",
            extra_images=(reference,),
            output_format="jpeg",
        )
    )
    assert_post(
        recorder,
        0,
        "wavespeed-ai/qwen-image/edit-plus",
        {
            "prompt": "wear this",
            "images": [PNG_URI, JPEG_URI],
            "output_format": "jpeg",
            "enable_sync_mode": True,
        },
    )


def test_seedream_edit_sends_a_size_within_its_pixel_range() -> None:
    adapter, recorder, _ = provider(answer("completed"))
    result = adapter.edit(
        EditRequest(
            operation="general_edit",
            image=image(1080, 1080),
            model="seedream-v4.5-edit",
            prompt="studio light",
        )
    )
    assert_post(
        recorder,
        0,
        "bytedance/seedream-v4.5/edit",
        {"prompt": "studio light", "images": [PNG_URI], "size": "1920*1920", "enable_sync_mode": True},
    )
    assert isinstance(result, Succeeded)
    assert result.outputs[0].extra == {
        "requested_width": 1080,
        "requested_height": 1080,
        "sent_width": 1920,
        "sent_height": 1920,
    }


def test_nano_banana_pro_edit_ultra_is_async_with_ratio_and_resolution_tier() -> None:
    adapter, recorder, _ = provider(answer("submitted"), answer("submitted"))
    result = adapter.edit(
        EditRequest(
            operation="general_edit",
            image=image(),
            model="nano-banana-pro-edit-ultra",
            prompt="4K poster",
            output_format="webp",
        )
    )
    assert result == Submitted(provider_job_id="pred_abc123", poll_after=2.0)
    assert_post(
        recorder,
        0,
        "google/nano-banana-pro/edit-ultra",
        {
            "prompt": "4K poster",
            "images": [PNG_URI],
            "aspect_ratio": "16:9",
            "resolution": "4k",
            "output_format": "png",
        },
    )
    adapter.edit(
        EditRequest(
            operation="general_edit", image=image(6000, 4000), model="nano-banana-pro-edit-ultra", prompt="x"
        )
    )
    assert recorder.json(1)["resolution"] == "8k" and recorder.json(1)["aspect_ratio"] == "3:2"


def test_flux_kontext_pro_edit_uses_the_edit_endpoint() -> None:
    adapter, recorder, _ = provider(answer("completed"))
    adapter.edit(
        EditRequest(operation="general_edit", image=image(), model="flux-kontext-pro", prompt="add text")
    )
    assert_post(
        recorder,
        0,
        "wavespeed-ai/flux-kontext-pro",
        {"prompt": "add text", "image": PNG_URI, "guidance_scale": 3.5, "enable_sync_mode": True},
    )


def test_edit_input_checks_happen_before_any_request() -> None:
    adapter, recorder, _ = provider()
    extras = tuple(image() for _ in range(3))
    with pytest.raises(ProviderRejected, match="at most 3"):
        adapter.edit(
            EditRequest(
                operation="general_edit",
                image=image(),
                model="qwen-edit-plus",
                prompt="x",
                extra_images=extras,
            )
        )
    with pytest.raises(InvalidInput, match="prompt"):
        adapter.edit(EditRequest(operation="general_edit", image=image(), model="qwen-edit", prompt=" "))
    assert recorder.requests == []


def test_large_images_are_uploaded_and_sent_by_url() -> None:
    adapter, recorder, _ = provider(
        answer("upload", download_url="https://d1.wavespeed.ai/u/big.png"),
        answer("completed"),
        inline_max_bytes=10,
    )
    adapter.edit(EditRequest(operation="general_edit", image=image(), model="qwen-edit", prompt="x"))
    upload = recorder.requests[0]
    assert upload.method == "POST" and str(upload.url) == f"{BASE}/media/upload/binary"
    assert upload.headers["authorization"] == "Bearer ws-key"
    assert upload.headers["content-type"].startswith("multipart/form-data")
    assert b'name="file"; filename="input.png"' in upload.content and PNG in upload.content
    assert recorder.json(1)["image"] == "https://d1.wavespeed.ai/u/big.png"


def test_base64_outputs_and_nsfw_flags_are_kept() -> None:
    adapter, _, _ = provider(
        answer(
            "completed", outputs=[PNG_URI, "https://cdn.wavespeed.ai/x/2"], has_nsfw_contents=[False, True]
        )
    )
    result = adapter.generate(GenerateRequest(prompt="x", model="qwen-image", width=1024, height=1024))
    assert isinstance(result, Succeeded)
    first, second = result.outputs
    assert first.data == PNG and first.mime == "image/png" and first.url is None
    assert second.url == "https://cdn.wavespeed.ai/x/2" and second.mime == "image/png"
    assert second.extra["nsfw"] is True and "nsfw" not in first.extra


# ----------------------------------------------------------------------------- video and avatars


def test_wan_25_image_to_video_uploads_the_audio_and_submits_async() -> None:
    adapter, recorder, _ = provider(answer("upload"), answer("submitted", id="pred_vid42"))
    audio = Media(data=b"ID3" + b"\x00" * 10, mime="audio/mpeg", duration=4.0, filename="voice.mp3")
    result = adapter.image_to_video(
        VideoRequest(
            image=image(),
            model="wan-2.5-image-to-video",
            prompt="slow push-in",
            negative_prompt="blur",
            resolution="1080p",
            duration=10,
            audio=audio,
            enable_prompt_expansion=False,
            seed=11,
        )
    )
    assert result == Submitted(provider_job_id="pred_vid42", poll_after=15.0)
    assert str(recorder.requests[0].url) == f"{BASE}/media/upload/binary"
    assert b'filename="voice.mp3"' in recorder.requests[0].content
    assert_post(
        recorder,
        1,
        "alibaba/wan-2.5/image-to-video",
        {
            "image": PNG_URI,
            "resolution": "1080p",
            "duration": 10,
            "enable_prompt_expansion": False,
            "prompt": "slow push-in",
            "negative_prompt": "blur",
            "seed": 11,
            "audio": "https://d1.wavespeed.ai/media/uploads/abc.mp3",
        },
    )


def test_wan_25_rejects_durations_the_model_does_not_make() -> None:
    adapter, recorder, _ = provider()
    with pytest.raises(InvalidInput, match="5 or 10"):
        adapter.image_to_video(VideoRequest(image=image(), model="wan-2.5-image-to-video", duration=7))
    assert recorder.requests == []


@pytest.mark.parametrize(
    ("model", "path"),
    [("infinitetalk", "wavespeed-ai/infinitetalk"), ("hunyuan-avatar", "wavespeed-ai/hunyuan-avatar")],
)
def test_talking_avatars_send_image_audio_and_resolution(model: str, path: str) -> None:
    adapter, recorder, _ = provider(answer("upload"), answer("submitted"))
    audio = Media(data=b"RIFF\x00\x00\x00\x00WAVE", mime="audio/wav", duration=12.0)
    result = adapter.talking_avatar(
        AvatarRequest(image=image(), audio=audio, model=model, resolution="480p", prompt="smiling", seed=1)
    )
    assert result == Submitted(provider_job_id="pred_abc123", poll_after=15.0)
    assert b'filename="input.wav"' in recorder.requests[0].content
    assert_post(
        recorder,
        1,
        path,
        {
            "image": PNG_URI,
            "audio": "https://d1.wavespeed.ai/media/uploads/abc.mp3",
            "resolution": "480p",
            "prompt": "smiling",
            "seed": 1,
        },
    )


def test_avatar_resolution_is_checked_against_the_catalog() -> None:
    adapter, recorder, _ = provider()
    audio = Media(data=b"x", mime="audio/wav")
    with pytest.raises(InvalidInput, match="480p, 720p"):
        adapter.talking_avatar(
            AvatarRequest(image=image(), audio=audio, model="infinitetalk", resolution="1080p")  # type: ignore[arg-type]
        )
    assert recorder.requests == []


def test_cancel_is_not_documented() -> None:
    adapter, recorder, _ = provider()
    assert adapter.cancel("pred_abc123") is False
    assert recorder.requests == []


# ----------------------------------------------------------------------------- face swap


def swap(model: str, **fields: Any) -> FaceSwapRequest:
    base = Media(data=JPEG, mime="image/jpeg", width=1024, height=768)
    face = Media(data=PNG, mime="image/png", width=512, height=512)
    return FaceSwapRequest(image=base, face_image=face, model=model, **fields)


def test_image_face_swap_sends_wavespeeds_field_names_and_is_polled() -> None:
    adapter, recorder, _ = provider(answer("face_swap_submitted"), answer("face_swap_completed"))
    result = adapter.face_swap(
        swap("image-face-swap", target_index=2, target_gender="female", output_format="webp")
    )
    assert result == Submitted(provider_job_id="pred_fs_001", poll_after=2.0)
    # never sync mode: a prediction to poll, so no request waits on the provider
    assert_post(
        recorder,
        0,
        "wavespeed-ai/image-face-swap",
        {
            "image": JPEG_URI,
            "face_image": PNG_URI,
            "target_index": 2,
            "target_gender": "female",
            "output_format": "webp",
        },
    )
    polled = adapter.poll("pred_fs_001")
    assert isinstance(polled, Succeeded)
    (output,) = polled.outputs
    # labelled by what came back (the original labelled every swap PNG)
    assert output.mime == "image/webp" and output.url and output.url.endswith("1.webp")
    assert str(recorder.requests[1].url) == f"{BASE}/predictions/pred_fs_001/result"


def test_image_face_swap_pro_uses_the_same_fields_at_its_path() -> None:
    adapter, recorder, _ = provider(answer("face_swap_submitted"))
    adapter.face_swap(swap("image-face-swap-pro"))
    assert_post(
        recorder,
        0,
        "wavespeed-ai/image-face-swap-pro",
        {"image": JPEG_URI, "face_image": PNG_URI, "target_index": 0, "output_format": "jpeg"},
    )


def test_head_swap_takes_no_index_and_says_what_it_ignored() -> None:
    adapter, recorder, _ = provider(answer("face_swap_submitted"), answer("face_swap_completed"))
    adapter.face_swap(swap("image-head-swap", target_gender="male", output_format="png"))
    assert_post(
        recorder,
        0,
        "wavespeed-ai/image-head-swap",
        {"image": JPEG_URI, "face_image": PNG_URI, "output_format": "png"},
    )
    with pytest.raises(InvalidInput, match="only the largest face"):
        adapter.face_swap(swap("image-head-swap", target_index=1))


def test_akool_sends_the_face_to_replace_as_a_crop_not_the_whole_photo() -> None:
    adapter, recorder, _ = provider(answer("face_swap_submitted"))
    crop = Media(data=PNG + b"crop", mime="image/png", width=120, height=120)
    adapter.face_swap(swap("akool-face-swap", target_index=3, target_face=crop, face_enhance=True))
    crop_uri = "data:image/png;base64," + base64.b64encode(PNG + b"crop").decode()
    assert_post(
        recorder,
        0,
        "akool/image-face-swap",
        {"image": JPEG_URI, "source_image": PNG_URI, "target_image": crop_uri, "face_enhance": True},
    )
    with pytest.raises(InvalidInput, match="needs the face to replace") as err:
        adapter.face_swap(swap("akool-face-swap"))
    assert err.value.details["field"] == "target_face"
    with pytest.raises(InvalidInput, match="target_index 0 to 4"):
        adapter.face_swap(swap("akool-face-swap", target_index=5, target_face=crop))


def test_infinite_you_names_its_images_target_and_source() -> None:
    adapter, recorder, _ = provider(answer("face_swap_submitted"))
    adapter.face_swap(swap("infinite-you"))
    assert_post(recorder, 0, "wavespeed-ai/infinite-you", {"target_image": JPEG_URI, "source_image": PNG_URI})


def test_face_swap_index_limit_and_failures() -> None:
    adapter, recorder, _ = provider(answer("failed_nsfw"))
    with pytest.raises(InvalidInput, match="target_index 0 to 10"):
        adapter.face_swap(swap("image-face-swap", target_index=11))
    assert recorder.requests == []
    with pytest.raises(ContentRejected):
        adapter.face_swap(swap("image-face-swap"))
    with pytest.raises(Unsupported):
        adapter.face_swap(swap("qwen-edit"))

"""WaveSpeed AI (REST v3): text-to-image, prompt edits, WAN 2.5 image-to-video and talking avatars.

Protocol (https://wavespeed.ai/docs/submit-task, /docs/get-result, /docs/sync-mode):

- submit: ``POST {base}/{model_path}`` with a JSON body and ``Authorization: Bearer <key>``; the
  answer is ``{"code": 200, "data": {"id", "status", "outputs", ...}}``;
- result: ``GET {base}/predictions/{id}/result``; ``data.status`` is ``created`` | ``processing`` |
  ``completed`` (``data.outputs``: URLs, or objects with ``url``) | ``failed`` (``data.error``);
- sync mode: ``"enable_sync_mode": true`` asks the API to hold the request until the outputs exist.
  It is sent only for the fast image models whose pages document it (`SYNC_MODELS`). When the
  answer is still ``created`` / ``processing`` (the server's own sync wait ran out), the call answers
  `Submitted` and the job is polled like any other.
- output URLs expire (predictions are kept 7 days): the caller copies them at once with
  `imagestudio.providers.http.download`.
- cancelling is not documented, so `cancel` answers False.

Retries and double charges: a submission is only retried when the provider cannot have started a
task (HTTP 429, a connection that never opened, or any error of an asynchronous submit, which
answers at once). A sync-mode submission that times out or fails with 5xx may have started a paid
task, so it is not re-sent; it becomes `ProviderUnavailable` with ``details["may_have_started"]``.

Inputs: images travel as base64 data URIs in ``image`` / ``images``; an image larger than
``inline_max_bytes``, and every audio track, is first uploaded to ``POST {base}/media/upload/binary``
(multipart ``file``) and sent as the ``download_url`` it answers.

Sizes: each model's accepted sizes are applied with `imagestudio.providers.sizing`. When what is
sent differs from what was asked (another size, or only an aspect ratio), every output carries
``extra["requested_width"]`` / ``extra["requested_height"]`` and ``sent_width`` / ``sent_height`` or
``sent_aspect_ratio``: the caller cover-crops and resamples the result to exactly the requested size
(for a polled job the caller uses the size of its own request, which `Submitted` cannot carry).
Request fields a model does not take are listed in ``extra["ignored_fields"]``.

Per-model request bodies (the ``enable_sync_mode`` flag aside) are built by the ``_body_*``
methods; each names the documentation page it follows.
"""

from __future__ import annotations

import base64
import binascii
import logging
import mimetypes
import time
from collections.abc import Callable
from typing import Any, Final, Literal
from urllib.parse import unquote_to_bytes, urlsplit

import httpx

from imagestudio.catalog import ModelSpec, get_catalog
from imagestudio.catalog.models import PerSecondPrice
from imagestudio.errors import ContentRejected, InvalidInput
from imagestudio.providers.base import (
    AvatarRequest,
    CallResult,
    EditRequest,
    FaceSwapRequest,
    Failed,
    GenerateRequest,
    Media,
    Output,
    PollResult,
    ProviderRejected,
    ProviderUnavailable,
    Running,
    Submitted,
    Succeeded,
    Unsupported,
    VideoRequest,
)
from imagestudio.providers.http import HttpProvider, raise_for_status, send
from imagestudio.providers.sizing import nearest_accepted_size, nearest_aspect_ratio

log = logging.getLogger(__name__)

PROVIDER: Final = "wavespeed"
BASE_URL: Final = "https://api.wavespeed.ai/api/v3"
MB: Final = 1024 * 1024

Kind = Literal["image", "video"]
Body = dict[str, Any]
Extra = dict[str, object]

# Models whose documentation lists enable_sync_mode and that answer within seconds. Nano Banana Pro
# Edit Ultra documents it too but takes minutes: it is submitted asynchronously, as are WAN 2.5 and
# the avatars; Ideogram V3 Turbo's page does not list the flag.
SYNC_MODELS: Final = frozenset(
    {"qwen-image", "flux-kontext-pro", "flux-kontext-max", "qwen-edit", "qwen-edit-plus"}
    | {"seedream-v4.5-edit"}
)

# wavespeed.ai/docs/docs-api/ideogram-ai/ideogram-ai-ideogram-v3-turbo: aspect_ratio and style only.
IDEOGRAM_RATIOS: Final = ("1:1", "16:9", "9:16", "4:3", "3:4")
IDEOGRAM_STYLES: Final = {"photographic": "Realistic", "cinematic": "Realistic", "analog-film": "Realistic"}
# FLUX.1 Kontext [pro] text-to-image takes aspect_ratio only (the BFL set; the page lists examples).
FLUX_RATIOS: Final = ("21:9", "16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16", "9:21")
# google/nano-banana-pro/edit-ultra: aspect_ratio, resolution 4k | 8k, output_format png | jpeg.
NANO_BANANA_RATIOS: Final = ("1:1", "3:2", "2:3", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
# bytedance/seedream-v4.5/edit: size "W*H" up to 4096 a side; Seedream 4.5 needs 3.69 to 16.8 MP.
SEEDREAM_MIN_PIXELS: Final = 1920 * 1920
SEEDREAM_MAX_PIXELS: Final = 4096 * 4096
QWEN_MIN_SIDE: Final = 256

EXTENSIONS: Final = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "audio/mpeg": ".mp3",
    "audio/mp3": ".mp3",
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "audio/wave": ".wav",
}

POLL_AFTER: Final[dict[Kind, float]] = {"image": 2.0, "video": 15.0}
RUNNING_POLL_AFTER: Final = 5.0

_CONTENT_WORDS: Final = ("nsfw", "sensitive", "content policy", "moderation", "safety", "inappropriate")
_INPUT_WORDS: Final = ("invalid", "must be", "must not", "unsupported", "too large", "too small", "exceed")


def is_content_message(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in _CONTENT_WORDS)


def _classify_failure(reason: str) -> tuple[str, bool]:
    """(code, retryable) for a failed prediction's error text."""
    if is_content_message(reason):
        return "content_rejected", False
    lowered = reason.lower()
    if any(word in lowered for word in _INPUT_WORDS):
        return "provider_rejected_input", False
    return "provider_failed", True


class WaveSpeedProvider(HttpProvider):
    """The WaveSpeed adapter; `api_key` may be a callable so the secret is read when first needed."""

    name = PROVIDER
    default_base_url = BASE_URL

    def __init__(
        self,
        api_key: Callable[[], str] | str,
        *,
        http: httpx.Client | None = None,
        base_url: str = BASE_URL,
        sync: bool = True,
        sync_timeout: float = 120.0,
        inline_max_bytes: int = 5 * MB,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(api_key, http=http, base_url=base_url, sleep=sleep)
        self._sync = sync
        self._sync_timeout = httpx.Timeout(connect=5.0, read=sync_timeout, write=30.0, pool=5.0)
        self._inline_max = inline_max_bytes

    # ------------------------------------------------------------------------- capabilities

    def generate(self, request: GenerateRequest) -> CallResult:
        spec = self._spec(request.model, "text-to-image")
        builders: dict[str, Callable[[GenerateRequest, ModelSpec], tuple[Body, Extra]]] = {
            "ideogram-v3-turbo": self._body_ideogram,
            "qwen-image": self._body_qwen_image,
            "flux-kontext-pro": self._body_flux_text,
        }
        builder = builders.get(spec.id)
        if builder is None:
            raise self._no_shape(spec, "text-to-image")
        body, extra = builder(request, spec)
        return self._run(spec, "text-to-image", body, extra, kind="image")

    def edit(self, request: EditRequest) -> CallResult:
        if request.operation != "general_edit":
            raise self._unsupported(f"edit ({request.operation})")
        model = request.model or get_catalog().provider(PROVIDER).default_models["edit"]
        spec = self._spec(model, "edit")
        builders: dict[str, Callable[[EditRequest, ModelSpec], tuple[Body, Extra]]] = {
            "qwen-edit": self._body_qwen_edit,
            "qwen-edit-plus": self._body_qwen_edit_plus,
            "seedream-v4.5-edit": self._body_seedream_edit,
            "nano-banana-pro-edit-ultra": self._body_nano_banana_edit,
            "flux-kontext-pro": self._body_flux_edit,
            "flux-kontext-max": self._body_flux_edit,
        }
        builder = builders.get(spec.id)
        if builder is None:
            raise self._no_shape(spec, "edit")
        if not (request.prompt or "").strip():
            raise InvalidInput(
                "A general edit needs a prompt saying what to change.", details={"field": "prompt"}
            )
        limit = spec.max_input_images or 1
        if 1 + len(request.extra_images) > limit:
            raise ProviderRejected(
                f"{spec.name} takes at most {limit} input image(s); {1 + len(request.extra_images)} given.",
                details={"provider": PROVIDER, "model": spec.id, "max_input_images": limit},
            )
        body, extra = builder(request, spec)
        if request.mask is not None:
            extra["ignored_fields"] = [*_as_list(extra.get("ignored_fields")), "mask"]
        return self._run(spec, "edit", body, extra, kind="image")

    def image_to_video(self, request: VideoRequest) -> CallResult:
        spec = self._spec(request.model, "image-to-video")
        if spec.id != "wan-2.5-image-to-video":
            raise self._no_shape(spec, "image-to-video")
        self._check_resolution(spec, request.resolution)
        price = spec.price
        allowed = price.allowed_durations if isinstance(price, PerSecondPrice) else None
        if allowed and request.duration not in allowed:
            raise InvalidInput(
                f"{spec.name} makes videos of {' or '.join(map(str, allowed))} s, not {request.duration} s.",
                details={"field": "duration", "valid_choices": allowed},
            )
        # wavespeed.ai/docs/docs-api/alibaba/alibaba-wan-2.5-image-to-video
        body: Body = {
            "image": self._image_ref(request.image),
            "resolution": request.resolution,
            "duration": request.duration,
            "enable_prompt_expansion": request.enable_prompt_expansion,
        }
        _put(body, "prompt", request.prompt)
        _put(body, "negative_prompt", request.negative_prompt)
        _put(body, "seed", request.seed)
        if request.audio is not None:
            body["audio"] = self._upload(request.audio)
        extra: Extra = {"resolution": request.resolution, "duration": request.duration}
        return self._run(spec, "image-to-video", body, extra, kind="video", callback_url=request.callback_url)

    def talking_avatar(self, request: AvatarRequest) -> CallResult:
        spec = self._spec(request.model, "talking-avatar")
        if spec.id not in ("infinitetalk", "hunyuan-avatar"):
            raise self._no_shape(spec, "talking-avatar")
        self._check_resolution(spec, request.resolution)
        # wavespeed.ai/docs/docs-api/wavespeed-ai/infinitetalk and .../hunyuan-avatar: image, audio,
        # resolution (480p | 720p), optional prompt and seed.
        body: Body = {
            "image": self._image_ref(request.image),
            "audio": self._upload(request.audio),
            "resolution": request.resolution,
        }
        _put(body, "prompt", request.prompt)
        _put(body, "seed", request.seed)
        extra: Extra = {"resolution": request.resolution}
        if request.audio.duration is not None:
            extra["audio_seconds"] = request.audio.duration
        return self._run(spec, "talking-avatar", body, extra, kind="video", callback_url=request.callback_url)

    def face_swap(self, request: FaceSwapRequest) -> CallResult:
        """Face swaps run asynchronously at WaveSpeed (no sync mode): the answer is a prediction to poll.
        The output's type follows its URL (jpeg, png or webp as asked), never a fixed label."""
        spec = self._spec(request.model, "edit")
        builders: dict[str, Callable[[FaceSwapRequest, ModelSpec], tuple[Body, Extra]]] = {
            "image-face-swap": self._body_face_swap,
            "image-face-swap-pro": self._body_face_swap,
            "image-head-swap": self._body_head_swap,
            "akool-face-swap": self._body_akool_swap,
            "infinite-you": self._body_infinite_you,
        }
        builder = builders.get(spec.id)
        if builder is None:
            raise self._no_shape(spec, "face swap")
        limit = spec.limits.get("max_target_index", 0)
        if isinstance(limit, int) and not 0 <= request.target_index <= limit:
            which = "only the largest face (target_index 0)" if limit == 0 else f"target_index 0 to {limit}"
            raise InvalidInput(
                f"{spec.name} can replace {which}; got target_index {request.target_index}.",
                details={"field": "target_index", "model": spec.id, "max": limit},
            )
        body, extra = builder(request, spec)
        return self._run(spec, "edit", body, extra, kind="image")

    def poll(self, provider_job_id: str) -> PollResult:
        response = send(
            PROVIDER,
            "GET",
            f"{self._base}/predictions/{provider_job_id}/result",
            headers=self._headers(),
            sleep=self._sleep,
            http=self._http,
        )
        if response.status_code == 404:
            return Failed("provider_job_not_found", f"WaveSpeed has no prediction {provider_job_id}.")
        data = self._data(response)
        status = str(data.get("status") or "")
        if status == "completed":
            outputs = _outputs(data, None, {})
            if not outputs:
                return Failed("provider_no_output", "WaveSpeed completed without outputs.", retryable=True)
            return Succeeded(outputs=outputs, provider_job_id=provider_job_id)
        if status == "failed":
            reason = str(data.get("error") or "WaveSpeed reported the prediction as failed.")
            code, retryable = _classify_failure(reason)
            return Failed(code, reason, retryable=retryable)
        return Running(poll_after=RUNNING_POLL_AFTER)

    # ------------------------------------------------------------------------- request bodies

    def _body_ideogram(self, request: GenerateRequest, spec: ModelSpec) -> tuple[Body, Extra]:
        """ideogram-ai/ideogram-v3-turbo: prompt, aspect_ratio, style (no size, seed or negative prompt)."""
        ratio = nearest_aspect_ratio(request.width, request.height, IDEOGRAM_RATIOS)
        body: Body = {"prompt": request.prompt, "aspect_ratio": ratio}
        style = IDEOGRAM_STYLES.get(request.style_preset or "")
        _put(body, "style", style)
        extra = _requested(request.width, request.height) | {"sent_aspect_ratio": ratio}
        _ignore(extra, request, "seed", "negative_prompt", "steps", "guidance_scale")
        return body, extra

    def _body_qwen_image(self, request: GenerateRequest, spec: ModelSpec) -> tuple[Body, Extra]:
        """wavespeed-ai/qwen-image/text-to-image: prompt, size "W*H", seed."""
        width, height = nearest_accepted_size(
            request.width, request.height, max_side=spec.max_side, min_side=QWEN_MIN_SIDE, multiple=16
        )
        body: Body = {"prompt": request.prompt, "size": f"{width}*{height}"}
        _put(body, "seed", request.seed)
        extra = _requested(request.width, request.height) | {"sent_width": width, "sent_height": height}
        _ignore(extra, request, "negative_prompt", "steps", "guidance_scale")
        return body, extra

    def _body_flux_text(self, request: GenerateRequest, spec: ModelSpec) -> tuple[Body, Extra]:
        """wavespeed-ai/flux-kontext-pro/text-to-image: prompt, aspect_ratio, num_images, guidance_scale,
        seed."""
        ratio = nearest_aspect_ratio(request.width, request.height, FLUX_RATIOS)
        body: Body = {
            "prompt": request.prompt,
            "aspect_ratio": ratio,
            "num_images": 1,
            "guidance_scale": _guidance(request.guidance_scale, spec),
        }
        _put(body, "seed", request.seed)
        extra = _requested(request.width, request.height) | {"sent_aspect_ratio": ratio}
        _ignore(extra, request, "negative_prompt", "steps")
        return body, extra

    def _body_qwen_edit(self, request: EditRequest, spec: ModelSpec) -> tuple[Body, Extra]:
        """wavespeed-ai/qwen-image/edit: prompt, image, seed, output_format (the output follows the input)."""
        body: Body = {"prompt": request.prompt, "image": self._image_ref(request.image)}
        _put(body, "seed", request.seed)
        body["output_format"] = request.output_format
        return body, _edit_extra(request)

    def _body_qwen_edit_plus(self, request: EditRequest, spec: ModelSpec) -> tuple[Body, Extra]:
        """wavespeed-ai/qwen-image/edit-plus: prompt, images (1 to 3), seed, output_format."""
        body: Body = {"prompt": request.prompt, "images": self._image_refs(request)}
        _put(body, "seed", request.seed)
        body["output_format"] = request.output_format
        return body, _edit_extra(request)

    def _body_seedream_edit(self, request: EditRequest, spec: ModelSpec) -> tuple[Body, Extra]:
        """bytedance/seedream-v4.5/edit: prompt, images (1 to 10), size "W*H" (3.69 to 16.8 MP)."""
        body: Body = {"prompt": request.prompt, "images": self._image_refs(request)}
        extra = _edit_extra(request)
        if request.image.width and request.image.height:
            width, height = nearest_accepted_size(
                request.image.width,
                request.image.height,
                max_side=spec.max_side,
                min_pixels=SEEDREAM_MIN_PIXELS,
                max_pixels=SEEDREAM_MAX_PIXELS,
                multiple=8,
            )
            body["size"] = f"{width}*{height}"
            extra |= {"sent_width": width, "sent_height": height}
        _ignore(extra, request, "seed")
        return body, extra

    def _body_nano_banana_edit(self, request: EditRequest, spec: ModelSpec) -> tuple[Body, Extra]:
        """google/nano-banana-pro/edit-ultra: prompt, images (1 to 14), aspect_ratio, resolution 4k | 8k,
        output_format png | jpeg. The 4k tier is chosen unless the image's long side is over 4096 px;
        ``extra["variant"]`` names the tier, which is the price variant."""
        body: Body = {"prompt": request.prompt, "images": self._image_refs(request)}
        extra = _edit_extra(request)
        width, height = request.image.width, request.image.height
        if width and height:
            ratio = nearest_aspect_ratio(width, height, NANO_BANANA_RATIOS)
            body["aspect_ratio"] = ratio
            extra["sent_aspect_ratio"] = ratio
        variant = "8k" if width and height and max(width, height) > 4096 else "4k"
        body["resolution"] = variant
        body["output_format"] = "jpeg" if request.output_format == "jpeg" else "png"
        extra["variant"] = variant
        _ignore(extra, request, "seed")
        return body, extra

    def _body_flux_edit(self, request: EditRequest, spec: ModelSpec) -> tuple[Body, Extra]:
        """wavespeed-ai/flux-kontext-pro (and -max): prompt, image, guidance_scale, seed."""
        body: Body = {
            "prompt": request.prompt,
            "image": self._image_ref(request.image),
            "guidance_scale": _guidance(None, spec),
        }
        _put(body, "seed", request.seed)
        return body, _edit_extra(request)

    # ------------------------------------------------------------------------- calls

    def _body_face_swap(self, request: FaceSwapRequest, spec: ModelSpec) -> tuple[Body, Extra]:
        """wavespeed-ai/image-face-swap (and -pro): image (the base photo), face_image (the reference
        face), target_index (0..10, 0 = the largest face), target_gender, output_format (jpeg | png |
        webp). Our target_index is sent under WaveSpeed's own name (the original sent another)."""
        body: Body = {
            "image": self._image_ref(request.image),
            "face_image": self._image_ref(request.face_image),
            "target_index": request.target_index,
            "output_format": request.output_format,
        }
        _put(body, "target_gender", request.target_gender)
        extra: Extra = {"target_index": request.target_index, "output_format": request.output_format}
        _ignore(extra, request, "face_enhance", "target_face")
        return body, extra

    def _body_head_swap(self, request: FaceSwapRequest, spec: ModelSpec) -> tuple[Body, Extra]:
        """wavespeed-ai/image-head-swap: image and face_image (the reference portrait), output_format;
        it replaces the main head (face, hair, outline), so no index."""
        body: Body = {
            "image": self._image_ref(request.image),
            "face_image": self._image_ref(request.face_image),
            "output_format": request.output_format,
        }
        extra: Extra = {"output_format": request.output_format}
        _ignore(extra, request, "target_gender", "target_face", "face_enhance")
        return body, extra

    def _body_akool_swap(self, request: FaceSwapRequest, spec: ModelSpec) -> tuple[Body, Extra]:
        """akool/image-face-swap: image (the photo), source_image (the new face), target_image (the face
        in the photo to replace, as a crop: the original sent the whole photo here), face_enhance."""
        if request.target_face is None:
            raise InvalidInput(
                f"{spec.name} needs the face to replace as its own picture: detect the faces first and"
                " send the crop of face target_index.",
                details={"field": "target_face", "model": spec.id},
            )
        body: Body = {
            "image": self._image_ref(request.image),
            "source_image": self._image_ref(request.face_image),
            "target_image": self._image_ref(request.target_face),
            "face_enhance": request.face_enhance,
        }
        extra: Extra = {"target_index": request.target_index}
        _ignore(extra, request, "target_gender")
        if request.output_format != "jpeg":
            extra["ignored_fields"] = [*_as_list(extra.get("ignored_fields")), "output_format"]
        return body, extra

    def _body_infinite_you(self, request: FaceSwapRequest, spec: ModelSpec) -> tuple[Body, Extra]:
        """wavespeed-ai/infinite-you: target_image (the photo) and source_image (the identity to put in)."""
        body: Body = {
            "target_image": self._image_ref(request.image),
            "source_image": self._image_ref(request.face_image),
        }
        extra: Extra = {}
        _ignore(extra, request, "target_gender", "target_face", "face_enhance")
        if request.output_format != "jpeg":
            extra["ignored_fields"] = [*_as_list(extra.get("ignored_fields")), "output_format"]
        return body, extra

    def _run(
        self,
        spec: ModelSpec,
        capability: str,
        body: Body,
        extra: Extra,
        *,
        kind: Kind,
        callback_url: str | None = None,
    ) -> CallResult:
        url = f"{self._base}/{spec.endpoint_for(capability).strip('/')}"
        if callback_url:
            # wavespeed.ai/docs/how-to-use-webhooks: the `webhook` query parameter of the submit; the
            # task's result is POSTed there, signed (see notify/provider_webhooks.py)
            response = send(
                PROVIDER,
                "POST",
                url,
                params={"webhook": callback_url},
                json=body,
                headers=self._headers(),
                sleep=self._sleep,
                http=self._http,
            )
            return self._answer(response, extra, kind)
        if self._sync and spec.id in SYNC_MODELS:
            try:
                response = send(
                    PROVIDER,
                    "POST",
                    url,
                    json={**body, "enable_sync_mode": True},
                    headers=self._headers(),
                    attempts=1,
                    timeout=self._sync_timeout,
                    sleep=self._sleep,
                    http=self._http,
                )
            except ProviderUnavailable as exc:
                if not _nothing_started(exc):
                    exc.details["may_have_started"] = True
                    raise
                log.info("wavespeed sync submit not accepted (%s); submitting asynchronously", exc.details)
            else:
                return self._answer(response, extra, kind)
        response = send(
            PROVIDER, "POST", url, json=body, headers=self._headers(), sleep=self._sleep, http=self._http
        )
        return self._answer(response, extra, kind)

    def _answer(self, response: httpx.Response, extra: Extra, kind: Kind) -> CallResult:
        if response.status_code == 404:
            raise ProviderUnavailable(
                "WaveSpeed does not know this model path: the catalog endpoint needs fixing.",
                details={"provider": PROVIDER, "status": 404, "url": str(response.request.url)},
            )
        data = self._data(response)
        job_id = str(data.get("id") or "")
        status = str(data.get("status") or "")
        if status == "completed":
            outputs = _outputs(data, kind, extra)
            if not outputs:
                raise ProviderUnavailable("WaveSpeed completed without outputs.", details={"id": job_id})
            return Succeeded(outputs=outputs, provider_job_id=job_id or None)
        if status == "failed":
            reason = str(data.get("error") or "WaveSpeed reported the prediction as failed.")
            raise _failure_error(reason, job_id)
        if not job_id:
            raise ProviderUnavailable(
                "WaveSpeed answered without a prediction id.", details={"status": status}
            )
        return Submitted(provider_job_id=job_id, poll_after=POLL_AFTER[kind])

    def _data(self, response: httpx.Response) -> dict[str, Any]:
        """The answer's ``data`` object, after mapping HTTP and body-level errors."""
        if response.status_code == 403:
            text = _error_message(response)
            if not is_content_message(text):
                raise ProviderUnavailable(
                    "WaveSpeed refused our credentials.",
                    details={"provider": PROVIDER, "status": 403, "provider_message": text},
                )
        raise_for_status(PROVIDER, response)
        try:
            body = response.json()
        except ValueError as exc:
            raise ProviderUnavailable("WaveSpeed answered something that is not JSON.") from exc
        if not isinstance(body, dict):
            raise ProviderUnavailable("WaveSpeed answered an unexpected shape.")
        code = body.get("code")
        if isinstance(code, int) and code >= 400:  # an error carried in a 200 answer
            raise_for_status(
                PROVIDER, httpx.Response(code if code < 600 else 500, json=body, request=response.request)
            )
        data = body.get("data")
        if not isinstance(data, dict):
            raise ProviderUnavailable("WaveSpeed answered without a data object.")
        return data

    def _headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self._key()}"}

    # ------------------------------------------------------------------------- media

    def _image_refs(self, request: EditRequest) -> list[str]:
        return [self._image_ref(media) for media in (request.image, *request.extra_images)]

    def _image_ref(self, media: Media) -> str:
        """A data URI for a small image; larger ones are uploaded and sent by URL."""
        if len(media.data) <= self._inline_max:
            return f"data:{media.mime};base64,{base64.b64encode(media.data).decode('ascii')}"
        return self._upload(media)

    def _upload(self, media: Media) -> str:
        filename = media.filename
        if "." not in filename:
            filename += EXTENSIONS.get(media.mime) or mimetypes.guess_extension(media.mime) or ""
        response = send(
            PROVIDER,
            "POST",
            f"{self._base}/media/upload/binary",
            files={"file": (filename, media.data, media.mime)},
            headers=self._headers(),
            sleep=self._sleep,
            http=self._http,
        )
        data = self._data(response)
        url = data.get("download_url")
        if not isinstance(url, str) or not url:
            raise ProviderUnavailable("WaveSpeed accepted an upload but answered no download_url.")
        return url

    # ------------------------------------------------------------------------- helpers

    def _no_shape(self, spec: ModelSpec, capability: str) -> Unsupported:
        return Unsupported(
            f"{PROVIDER} has no verified request shape for {spec.id} ({capability}) yet.",
            details={"provider": PROVIDER, "model": spec.id, "capability": capability},
        )

    @staticmethod
    def _check_resolution(spec: ModelSpec, resolution: str) -> None:
        if spec.resolutions and resolution not in spec.resolutions:
            choices = sorted(spec.resolutions)
            raise InvalidInput(
                f"{spec.name} renders {', '.join(choices)}, not {resolution}.",
                details={"field": "resolution", "valid_choices": choices},
            )


# ----------------------------------------------------------------------------- module helpers


def _nothing_started(exc: ProviderUnavailable) -> bool:
    """True when a failed submission cannot have created a task at the provider."""
    last = str(exc.details.get("last", ""))
    return last == "HTTP 429" or last.startswith(("ConnectError", "ConnectTimeout"))


def _failure_error(reason: str, job_id: str) -> Exception:
    code, _ = _classify_failure(reason)
    details = {"provider": PROVIDER, "id": job_id, "provider_message": reason}
    if code == "content_rejected":
        return ContentRejected(
            f"WaveSpeed refused the request under its content policy: {reason}", details=details
        )
    if code == "provider_rejected_input":
        return ProviderRejected(f"WaveSpeed did not accept the input: {reason}", details=details)
    return ProviderUnavailable(f"WaveSpeed failed: {reason}", details=details)


def _outputs(data: dict[str, Any], kind: Kind | None, extra: Extra) -> list[Output]:
    items = data.get("outputs") or []
    flags = data.get("has_nsfw_contents") or []
    outputs: list[Output] = []
    for index, item in enumerate(items if isinstance(items, list) else []):
        url = item.get("url") if isinstance(item, dict) else item
        if not isinstance(url, str) or not url:
            continue
        output_extra: Extra = dict(extra)
        if index < len(flags) and flags[index] is True:
            output_extra["nsfw"] = True
        if url.startswith("data:"):
            mime, raw = _decode_data_uri(url)
            outputs.append(Output(mime=mime, data=raw, extra=output_extra))
        else:
            outputs.append(Output(mime=_guess_mime(url, kind), url=url, extra=output_extra))
    return outputs


def _decode_data_uri(uri: str) -> tuple[str, bytes]:
    header, _, payload = uri[5:].partition(",")
    mime = header.split(";")[0] or "application/octet-stream"
    try:
        raw = base64.b64decode(payload, validate=True) if ";base64" in header else unquote_to_bytes(payload)
    except (binascii.Error, ValueError) as exc:
        raise ProviderUnavailable("WaveSpeed answered an output data URI that does not decode.") from exc
    return mime, raw


def _guess_mime(url: str, kind: Kind | None) -> str:
    guessed, _ = mimetypes.guess_type(urlsplit(url).path)
    if guessed:
        return guessed
    return {"image": "image/png", "video": "video/mp4"}.get(kind or "", "application/octet-stream")


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body)[:300]
    return str(body)[:300]


def _guidance(asked: float | None, spec: ModelSpec) -> float:
    if asked is not None:
        return asked
    default = spec.defaults.get("guidance_scale")
    return float(default) if isinstance(default, int | float) else 3.5


def _put(body: Body, key: str, value: object) -> None:
    if value is not None:
        body[key] = value


def _requested(width: int, height: int) -> Extra:
    return {"requested_width": width, "requested_height": height}


def _edit_extra(request: EditRequest) -> Extra:
    if request.image.width and request.image.height:
        return _requested(request.image.width, request.image.height)
    return {}


def _ignore(extra: Extra, request: object, *fields: str) -> None:
    given = [f for f in fields if getattr(request, f, None) not in (None, False)]
    if given:
        extra["ignored_fields"] = [*_as_list(extra.get("ignored_fields")), *given]


def _as_list(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []

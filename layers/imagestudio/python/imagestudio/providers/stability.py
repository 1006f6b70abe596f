"""Stability AI adapter (REST v2beta, https://platform.stability.ai/docs/api-reference).

Every call is a POST of ``multipart/form-data`` with ``Authorization: Bearer <key>``. Synchronous
services answer 200 with the image bytes (``Accept: image/*``), the seed in a ``seed`` header and a
``finish-reason`` header (``SUCCESS`` or ``CONTENT_FILTERED``); with ``Accept: application/json`` they
answer ``{"image": base64, "seed", "finish_reason"}`` instead (parsed too). Asynchronous services
(replace-background-and-relight, creative upscale) answer ``{"id"}``; the result is fetched at
``GET /v2beta/results/{id}``: 202 while in progress, 200 with the bytes when done, kept 24 h, to be
polled no more than once every 10 s. Errors are JSON ``{"id", "name", "errors": [..]}``: 400/413/422
the input's fault, 403 content moderation, 429 rate limit (150 requests / 10 s), 500 ours.

Input limits published per service are checked here before the call when the image size is known
(``Media.width``/``height``), so a doomed request costs neither a round trip nor credits.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from imagestudio.catalog import get_catalog, parse_aspect_ratio
from imagestudio.errors import ContentRejected, DomainError
from imagestudio.imaging.verify import human_size
from imagestudio.providers import sizing
from imagestudio.providers.base import (
    CallResult,
    ControlRequest,
    EditRequest,
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
    ThreeDRequest,
    UpscaleRequest,
)
from imagestudio.providers.http import TIMEOUT, HttpProvider, raise_for_status, send, sniff_mime

log = logging.getLogger(__name__)

API_BASE = "https://api.stability.ai"
RESULTS_PATH = "/v2beta/results/{id}"
CLIENT_ID = "image-studio-serverless"
POLL_AFTER_SECONDS = 10.0  # Stability: polling more than once every 10 s may be rate-limited
MAX_REQUEST_BYTES = 10 * 1024 * 1024  # 413 beyond 10 MiB
MAX_SEED = 4_294_967_294
MAX_PROMPT_CHARS = 10_000
ASPECT_RATIOS = ("21:9", "16:9", "3:2", "5:4", "1:1", "4:5", "2:3", "9:16", "9:21")
TEXTURE_RESOLUTIONS = (512, 1024, 2048)
DEFAULT_PROMPTS = {  # used when the catalog has none; the catalog's upscale modes are the source of truth
    "conservative": "High fidelity upscale preserving original details",
    "creative": "Creative upscale with enhanced artistic details",
}
EXT_BY_MIME = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
FINISH_FILTERED = "CONTENT_FILTERED"
# the edit services that find their target from a prompt, and the request field naming it
FINDER_FIELDS = {"search_replace": "search_prompt", "search_recolor": "select_prompt"}
FINISH_ERROR = "ERROR"


@dataclass(frozen=True)
class ImageLimits:
    """One image field's published validation rules."""

    min_side: int = 64
    max_side: int | None = None
    min_pixels: int = 4_096
    max_pixels: int | None = None
    min_aspect: float | None = None  # width / height
    max_aspect: float | None = None

    def problems(self, width: int, height: int) -> list[str]:
        found: list[str] = []
        if min(width, height) < self.min_side:
            found.append(f"every side at least {self.min_side} px")
        if self.max_side is not None and max(width, height) > self.max_side:
            found.append(f"every side at most {self.max_side:,} px")
        pixels = width * height
        if pixels < self.min_pixels:
            found.append(f"at least {self.min_pixels:,} pixels")
        if self.max_pixels is not None and pixels > self.max_pixels:
            found.append(f"at most {self.max_pixels:,} pixels ({self.max_pixels / 1_048_576:.1f} MP)")
        ratio = width / height
        if self.min_aspect is not None and ratio < self.min_aspect - 1e-9:
            found.append(f"an aspect ratio of at least 1:{1 / self.min_aspect:g} (width / height)")
        if self.max_aspect is not None and ratio > self.max_aspect + 1e-9:
            found.append(f"an aspect ratio of at most {self.max_aspect:g}:1 (width / height)")
        return found


MP_9_4 = 9_437_184
MP_4 = 4_194_304
MP_1 = 1_048_576
EDIT = ImageLimits(max_pixels=MP_9_4)
EDIT_ASPECT = ImageLimits(max_pixels=MP_9_4, min_aspect=0.4, max_aspect=2.5)
REMOVE_BACKGROUND = ImageLimits(max_pixels=MP_4)
FAST_UPSCALE = ImageLimits(min_side=32, max_side=1_536, min_pixels=1_024, max_pixels=MP_1)
CREATIVE_UPSCALE = ImageLimits(max_pixels=MP_1)
STYLE_TRANSFER_INIT = ImageLimits(max_side=16_383, max_pixels=MP_9_4, min_aspect=0.4, max_aspect=2.5)
STYLE_TRANSFER_STYLE = ImageLimits(max_side=16_383, max_pixels=MP_9_4)
THREE_D = ImageLimits(max_pixels=MP_4)

SD3_PATH = "/v2beta/stable-image/generate/sd3"
FAST_3D_PATH = "/v2beta/3d/stable-fast-3d"
SPAR_3D_PATH = "/v2beta/3d/stable-point-aware-3d"
GENERATE_PATHS = frozenset(
    {"/v2beta/stable-image/generate/ultra", "/v2beta/stable-image/generate/core", SD3_PATH}
)
EDIT_PATHS = {
    "erase": "/v2beta/stable-image/edit/erase",
    "inpaint": "/v2beta/stable-image/edit/inpaint",
    "outpaint": "/v2beta/stable-image/edit/outpaint",
    "search_replace": "/v2beta/stable-image/edit/search-and-replace",
    "search_recolor": "/v2beta/stable-image/edit/search-and-recolor",
    "remove_background": "/v2beta/stable-image/edit/remove-background",
    "relight": "/v2beta/stable-image/edit/replace-background-and-relight",
}
UPSCALE_PATHS = {
    "fast": "/v2beta/stable-image/upscale/fast",
    "conservative": "/v2beta/stable-image/upscale/conservative",
    "creative": "/v2beta/stable-image/upscale/creative",
}
CONTROL_PATHS = {
    "sketch": "/v2beta/stable-image/control/sketch",
    "structure": "/v2beta/stable-image/control/structure",
    "style": "/v2beta/stable-image/control/style",
    "style_transfer": "/v2beta/stable-image/control/style-transfer",
}


def nearest_aspect_ratio(width: float, height: float) -> str:
    """The one of Stability's nine aspect ratios closest to width:height (on a log scale, so 2:1 is as
    far from 1:1 as 1:2 is; see imagestudio.providers.sizing)."""
    try:
        return sizing.nearest_aspect_ratio(round(width * 1000), round(height * 1000), ASPECT_RATIOS)
    except ValueError:
        raise ProviderRejected(
            f"Width and height must be positive, not {width}x{height}.",
            details={"provider": "stability", "field": "width/height"},
        ) from None


def _form_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _filename(field: str, media: Media) -> str:
    if "." in media.filename:
        return media.filename
    return f"{field}.{EXT_BY_MIME.get(media.mime, 'bin')}"


def _text(value: str | None, field: str, *, required: bool = False, what: str = "") -> str | None:
    if value is None or not value.strip():
        if required:
            raise ProviderRejected(
                f"Stability {what} needs '{field}'.", details={"provider": "stability", "field": field}
            )
        return None
    if len(value) > MAX_PROMPT_CHARS:
        raise ProviderRejected(
            f"'{field}' is {len(value):,} characters; Stability takes at most {MAX_PROMPT_CHARS:,}.",
            details={"provider": "stability", "field": field, "limit": MAX_PROMPT_CHARS},
        )
    return value


def _seed(seed: int | None) -> int | None:
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise ProviderRejected(
            f"Seed {seed} is out of range: Stability takes 0..{MAX_SEED} (0 means random).",
            details={"provider": "stability", "field": "seed", "limit": MAX_SEED},
        )
    return seed


def _int_header(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


class StabilityProvider(HttpProvider):
    """Stability AI: generation (Ultra, Core, SD3.5), edits, upscales, control, image-to-3D.

    Generated and edited images come back at Stability's own size for the chosen aspect ratio, not
    exactly the requested width x height: the requested size is in ``Output.extra`` and the caller
    crops/resizes to it.
    """

    name = "stability"
    default_base_url = API_BASE

    # ------------------------------------------------------------------ generate

    def generate(self, request: GenerateRequest) -> CallResult:
        """Text-to-image on the model's endpoint (ultra, core, or sd3 with its ``model`` field).

        The requested width x height is mapped to the nearest of Stability's nine aspect ratios;
        the image returned has that ratio at the model's native size. The caller crops/resizes it
        to ``Output.extra["requested_width"]`` x ``["requested_height"]``. ``steps`` is not offered
        by Stability; ``guidance_scale`` is sent as ``cfg_scale`` to SD3.5 only.
        """
        spec = self._spec(request.model, "text-to-image")
        path = spec.endpoint_for("text-to-image")
        if path not in GENERATE_PATHS:
            raise self._unsupported(f"text-to-image with model {spec.id} ({path})")
        if request.width > 0 and request.height > 0:
            ratio = nearest_aspect_ratio(request.width, request.height)
        else:
            ratio = self._ratio_label(request.aspect_ratio or "1:1")
        fields: dict[str, object | None] = {
            "prompt": _text(request.prompt, "prompt", required=True, what="text-to-image"),
            "negative_prompt": _text(request.negative_prompt, "negative_prompt"),
            "aspect_ratio": ratio,
            "seed": _seed(request.seed),
            "style_preset": self._style_preset(request.style_preset),
            "output_format": request.output_format,
        }
        if path == SD3_PATH:
            fields["model"] = str(spec.defaults.get("model", spec.id))
            fields["cfg_scale"] = request.guidance_scale
        extra: dict[str, object] = {
            "model": spec.id,
            "sent_aspect_ratio": ratio,
            "requested_width": request.width,
            "requested_height": request.height,
        }
        return self._post(path, fields, {}, extra=extra)

    # ------------------------------------------------------------------ edit

    def edit(self, request: EditRequest) -> CallResult:
        """Stability's seven edit services; ``general_edit`` is another provider's (Unsupported)."""
        op = request.operation
        if op not in EDIT_PATHS:
            raise self._unsupported(f"edit ({op})")
        if request.model is not None:
            self._spec(request.model, "edit")
        path = EDIT_PATHS[op]
        what = path.rsplit("/", 1)[-1]
        seed = _seed(request.seed)
        files: dict[str, tuple[Media, ImageLimits]] = {}
        fields: dict[str, object | None] = {}
        extra: dict[str, object] = {"operation": op}
        if request.image.width and request.image.height:
            extra.update(requested_width=request.image.width, requested_height=request.image.height)

        if op in FINDER_FIELDS and request.mask is not None:
            raise ProviderRejected(
                f"Stability {what} finds the object from the prompt and takes no mask; leave 'mask' out "
                "or use inpaint.",
                details={"provider": "stability", "field": "mask", "operation": op},
            )
        if op == "erase":
            files = {"image": (request.image, EDIT)}
            if request.mask is not None:
                files["mask"] = (request.mask, EDIT)
            fields = {"grow_mask": request.grow_mask, "seed": seed}
        elif op == "inpaint":
            files = {"image": (request.image, EDIT)}
            if request.mask is not None:
                files["mask"] = (request.mask, EDIT)
            fields = {
                "prompt": _text(request.prompt, "prompt", required=True, what=what),
                "negative_prompt": _text(request.negative_prompt, "negative_prompt"),
                "grow_mask": request.grow_mask,
                "seed": seed,
            }
        elif op == "outpaint":
            sides = {"left": request.left, "right": request.right, "up": request.up, "down": request.down}
            if any(v < 0 for v in sides.values()) or not any(sides.values()):
                raise ProviderRejected(
                    "Stability outpaint needs at least one of left, right, up, down above 0 (pixels to add).",
                    details={"provider": "stability", "field": "left/right/up/down"},
                )
            files = {"image": (request.image, EDIT_ASPECT)}
            fields = {
                **{k: v for k, v in sides.items() if v},
                "creativity": request.creativity,
                "prompt": _text(request.prompt, "prompt"),
                "seed": seed,
            }
            w, h = request.image.width, request.image.height
            if w and h:  # the canvas grows: that is the size the caller expects back
                extra.update(
                    requested_width=w + request.left + request.right,
                    requested_height=h + request.up + request.down,
                )
        elif op in FINDER_FIELDS:  # search_replace / search_recolor: one form, another "what to find" field
            finder = FINDER_FIELDS[op]
            files = {"image": (request.image, EDIT_ASPECT)}
            fields = {
                "prompt": _text(request.prompt, "prompt", required=True, what=what),
                finder: _text(getattr(request, finder), finder, required=True, what=what),
                "negative_prompt": _text(request.negative_prompt, "negative_prompt"),
                "grow_mask": request.grow_mask,
                "seed": seed,
            }
        elif op == "remove_background":
            if request.output_format == "jpeg":
                raise ProviderRejected(
                    "Stability remove-background answers png or webp (the background becomes transparent), "
                    "not jpeg.",
                    details={
                        "provider": "stability",
                        "field": "output_format",
                        "valid_choices": ["png", "webp"],
                    },
                )
            files = {"image": (request.image, REMOVE_BACKGROUND)}
        else:  # relight
            return self._relight(request, path, seed, extra)
        fields["output_format"] = request.output_format
        return self._post(path, fields, files, extra=extra)

    def _relight(
        self, request: EditRequest, path: str, seed: int | None, extra: dict[str, object]
    ) -> CallResult:
        """replace-background-and-relight: asynchronous (answers an id to poll).

        image -> subject_image, background_image -> background_reference, lighting_image ->
        light_reference, prompt -> foreground_prompt (a description of the subject, which keeps the
        background from bleeding into it).
        """
        what = "replace-background-and-relight"
        background_prompt = _text(request.background_prompt, "background_prompt")
        if background_prompt is None and request.background_image is None:
            raise ProviderRejected(
                f"Stability {what} needs 'background_prompt' or 'background_image' (a lighting image alone "
                "is not enough).",
                details={"provider": "stability", "field": "background_prompt"},
            )
        if request.light_source_strength is not None and (
            request.light_source_direction is None and request.lighting_image is None
        ):
            raise ProviderRejected(
                f"Stability {what} uses 'light_source_strength' only with 'light_source_direction' or "
                "'lighting_image'.",
                details={"provider": "stability", "field": "light_source_strength"},
            )
        files: dict[str, tuple[Media, ImageLimits]] = {"subject_image": (request.image, EDIT_ASPECT)}
        if request.background_image is not None:
            files["background_reference"] = (request.background_image, EDIT)
        if request.lighting_image is not None:
            files["light_reference"] = (request.lighting_image, EDIT)
        fields: dict[str, object | None] = {
            "background_prompt": background_prompt,
            "foreground_prompt": _text(request.prompt, "prompt"),
            "negative_prompt": _text(request.negative_prompt, "negative_prompt"),
            "preserve_original_subject": request.preserve_original_subject,
            "original_background_depth": request.original_background_depth,
            "light_source_direction": request.light_source_direction,
            "light_source_strength": request.light_source_strength,
            "seed": seed,
            "output_format": request.output_format,
        }
        return self._post(path, fields, files, extra=extra, asynchronous=True)

    # ------------------------------------------------------------------ upscale

    def upscale(self, request: UpscaleRequest) -> CallResult:
        """fast (4x, synchronous), conservative (to ~4 MP, synchronous), creative (asynchronous).

        Stability takes no target size: ``target_long_side`` is echoed in ``Output.extra`` for the
        caller to resize to. Conservative and creative need a prompt: the catalog's default prompt for
        the mode is sent when the request has none.
        """
        mode = request.mode
        if mode not in UPSCALE_PATHS:
            raise self._unsupported(f"upscale mode {mode}")
        path = UPSCALE_PATHS[mode]
        extra: dict[str, object] = {"mode": mode}
        if request.target_long_side:
            extra["requested_long_side"] = request.target_long_side
        fields: dict[str, object | None]
        if mode == "fast":
            files = {"image": (request.image, FAST_UPSCALE)}
            fields = {"output_format": request.output_format}
            return self._post(path, fields, files, extra=extra)
        prompt = _text(request.prompt, "prompt") or self._default_upscale_prompt(mode)
        fields = {
            "prompt": prompt,
            "negative_prompt": _text(request.negative_prompt, "negative_prompt"),
            "seed": _seed(request.seed),
            "creativity": request.creativity,
            "output_format": request.output_format,
        }
        limits = EDIT_ASPECT if mode == "conservative" else CREATIVE_UPSCALE
        return self._post(
            path, fields, {"image": (request.image, limits)}, extra=extra, asynchronous=mode == "creative"
        )

    # ------------------------------------------------------------------ control

    def control(self, request: ControlRequest) -> CallResult:
        op = request.operation
        if op not in CONTROL_PATHS:
            raise self._unsupported(f"control ({op})")
        path = CONTROL_PATHS[op]
        what = path.rsplit("/", 1)[-1]
        seed = _seed(request.seed)
        extra: dict[str, object] = {"operation": op}
        fields: dict[str, object | None]
        files: dict[str, tuple[Media, ImageLimits]]
        if op in ("sketch", "structure"):
            files = {"image": (request.image, EDIT_ASPECT)}
            fields = {
                "prompt": _text(request.prompt, "prompt", required=True, what=what),
                "control_strength": request.control_strength,
                "negative_prompt": _text(request.negative_prompt, "negative_prompt"),
                "seed": seed,
            }
        elif op == "style":
            files = {"image": (request.image, EDIT_ASPECT)}
            ratio = self._ratio_label(request.aspect_ratio) if request.aspect_ratio else None
            fields = {
                "prompt": _text(request.prompt, "prompt", required=True, what=what),
                "negative_prompt": _text(request.negative_prompt, "negative_prompt"),
                "aspect_ratio": ratio,
                "fidelity": request.fidelity,
                "seed": seed,
            }
            if ratio:
                extra["sent_aspect_ratio"] = ratio
        else:  # style_transfer
            if request.style_image is None:
                raise ProviderRejected(
                    "Stability style-transfer needs 'style_image' (the style) besides the content image.",
                    details={"provider": "stability", "field": "style_image"},
                )
            files = {
                "init_image": (request.image, STYLE_TRANSFER_INIT),
                "style_image": (request.style_image, STYLE_TRANSFER_STYLE),
            }
            fields = {
                "prompt": _text(request.prompt, "prompt"),
                "negative_prompt": _text(request.negative_prompt, "negative_prompt"),
                "seed": seed,
                "style_strength": request.style_strength,
                "composition_fidelity": request.composition_fidelity,
                "change_strength": request.change_strength,
            }
        fields["output_format"] = request.output_format
        return self._post(path, fields, files, extra=extra)

    # ------------------------------------------------------------------ 3D

    def image_to_3d(self, request: ThreeDRequest) -> CallResult:
        """Stable Fast 3D or SPAR3D (by the catalog model's endpoint): a binary glTF (GLB) model.

        Values the request leaves out come from the catalog model's defaults. SPAR3D also takes
        ``guidance_scale`` and ``seed``; Stable Fast 3D takes neither.
        """
        spec = self._spec(request.model, "image-to-3d")
        path = spec.endpoint_for("image-to-3d")
        if path not in (FAST_3D_PATH, SPAR_3D_PATH):
            raise self._unsupported(f"image-to-3d with model {spec.id} ({path})")
        defaults = spec.defaults
        texture = request.texture_resolution or defaults.get("texture_resolution")
        if texture is not None and int(texture) not in TEXTURE_RESOLUTIONS:
            raise ProviderRejected(
                f"texture_resolution {texture} is not offered: Stability takes 512, 1024 or 2048.",
                details={
                    "provider": "stability",
                    "field": "texture_resolution",
                    "valid_choices": [512, 1024, 2048],
                },
            )
        fields: dict[str, object | None] = {
            "texture_resolution": int(texture) if texture is not None else None,
            "foreground_ratio": request.foreground_ratio
            if request.foreground_ratio is not None
            else defaults.get("foreground_ratio"),
            "remesh": request.remesh or defaults.get("remesh"),
        }
        if path == SPAR_3D_PATH:
            fields["guidance_scale"] = (
                request.guidance_scale
                if request.guidance_scale is not None
                else defaults.get("guidance_scale")
            )
            fields["seed"] = _seed(request.seed)
        return self._post(
            path, fields, {"image": (request.image, THREE_D)}, extra={"model": spec.id}, accept="*/*"
        )

    # ------------------------------------------------------------------ async results

    def poll(self, provider_job_id: str) -> PollResult:
        """GET /v2beta/results/{id}: 202 -> Running, 200 -> Succeeded, a 4xx -> Failed (404 means
        unknown or older than 24 h). 429/5xx are retried, then raise ProviderUnavailable: the job is
        not lost, poll again later."""
        job_id = provider_job_id.strip()
        if not job_id:
            return Failed(code="not_found", reason="No Stability generation id to poll.")
        url = self._base + RESULTS_PATH.format(id=quote(job_id, safe=""))
        response = self._send("GET", url, accept="*/*")
        if response.status_code == 202:
            return Running(poll_after=POLL_AFTER_SECONDS)
        if response.status_code == 404:
            return Failed(
                code="not_found",
                reason=f"Stability has no result for generation {job_id}: results are kept 24 hours and "
                "only for the API key that created them.",
            )
        if 400 <= response.status_code < 500:
            try:
                raise_for_status(self.name, response)
            except DomainError as exc:
                return Failed(
                    code=exc.code, reason=exc.message, retryable=isinstance(exc, ProviderUnavailable)
                )
        try:
            result = self._result(response, extra={}, job_id=job_id)
        except ContentRejected as exc:
            return Failed(code=exc.code, reason=exc.message)
        if isinstance(result, Submitted):  # a result endpoint answering an id: still running
            return Running(poll_after=POLL_AFTER_SECONDS)
        return result

    # ------------------------------------------------------------------ plumbing

    def _key(self) -> str:
        key = super()._key()
        if not key:
            raise ProviderUnavailable(
                "stability is not configured: no API key.", details={"provider": self.name}
            )
        return key

    def _send(self, method: str, url: str, *, accept: str, **kwargs: Any) -> httpx.Response:
        headers = {
            "authorization": f"Bearer {self._key()}",
            "accept": accept,
            "stability-client-id": CLIENT_ID,
        }
        return send(
            self.name,
            method,
            url,
            http=self._http,
            sleep=self._sleep,
            headers=headers,
            timeout=TIMEOUT,
            **kwargs,
        )

    def _post(
        self,
        path: str,
        fields: Mapping[str, object | None],
        files: Mapping[str, tuple[Media, ImageLimits]],
        *,
        extra: dict[str, object],
        asynchronous: bool = False,
        accept: str = "image/*",
    ) -> CallResult:
        what = path.rsplit("/", 1)[-1]
        total = 0
        for field, (media, limits) in files.items():
            total += len(media.data)
            if media.width and media.height:
                problems = limits.problems(media.width, media.height)
                if problems:
                    raise ProviderRejected(
                        f"Stability {what} needs '{field}' with {', '.join(problems)}; this one is "
                        f"{media.width}x{media.height}.",
                        details={
                            "provider": self.name,
                            "field": field,
                            "width": media.width,
                            "height": media.height,
                            "limits": problems,
                        },
                    )
        if total > MAX_REQUEST_BYTES:
            raise ProviderRejected(
                f"Stability accepts requests up to {human_size(MAX_REQUEST_BYTES)}; this one carries "
                f"{human_size(total)} of images. Send smaller images.",
                details={"provider": self.name, "limit_bytes": MAX_REQUEST_BYTES, "size_bytes": total},
            )
        # Every field is its own multipart part; text fields have no filename (always multipart, as
        # Stability requires, even when there is no file).
        parts: list[tuple[str, tuple[str | None, bytes | str, str | None]]] = [
            (name, (None, _form_value(value), None)) for name, value in fields.items() if value is not None
        ]
        parts += [(f, (_filename(f, m), m.data, m.mime)) for f, (m, _) in files.items()]
        response = self._send("POST", self._base + path, accept=accept, files=parts)
        result = self._result(response, extra=extra, job_id=None)
        if isinstance(result, Submitted) and not asynchronous:
            log.info("stability %s answered asynchronously (id %s)", what, result.provider_job_id)
        return result

    def _result(
        self, response: httpx.Response, *, extra: dict[str, object], job_id: str | None
    ) -> CallResult:
        """A 2xx answer: image/model bytes (headers carry seed and finish reason), base64 JSON, or
        an asynchronous job id."""
        raise_for_status(self.name, response)
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        request_id = response.headers.get("x-request-id")
        if content_type == "application/json" or response.status_code == 202:
            body = self._json(response)
            image = body.get("image") or body.get("base64")
            if not image:
                generation = body.get("id")
                if isinstance(generation, str) and generation:
                    return Submitted(provider_job_id=generation, poll_after=POLL_AFTER_SECONDS)
                raise ProviderUnavailable(
                    "stability answered JSON with neither an image nor a generation id.",
                    details={"provider": self.name, "keys": sorted(body)[:10]},
                )
            try:
                data = base64.b64decode(str(image), validate=True)
            except (binascii.Error, ValueError):
                raise ProviderUnavailable(
                    "stability answered an image that is not valid base64.", details={"provider": self.name}
                ) from None
            finish = body.get("finish_reason") or body.get("finishReason")
            seed_value = body.get("seed")
            seed = _int_header(str(seed_value)) if seed_value is not None else None
            declared = response.headers.get("content-type", "").partition("type=")[2].strip() or ""
        else:
            data = response.content
            finish = response.headers.get("finish-reason")
            seed = _int_header(response.headers.get("seed"))
            declared = content_type
        if finish == FINISH_FILTERED:
            raise ContentRejected(
                "stability's content filter flagged the output (it would come back blurred). Change the "
                "prompt or image.",
                details={"provider": self.name, "finish_reason": finish},
            )
        if finish == FINISH_ERROR:
            raise ProviderUnavailable(
                "stability reported an error generating the output.",
                details={"provider": self.name, "finish_reason": finish},
            )
        if not data:
            raise ProviderUnavailable("stability answered an empty output.", details={"provider": self.name})
        mime = sniff_mime(data, declared or "application/octet-stream")
        details = dict(extra)
        if finish:
            details["finish_reason"] = finish
        if request_id:
            details["request_id"] = request_id
        return Succeeded(
            outputs=[Output(mime=mime, data=data, seed=seed, extra=details)],
            provider_job_id=job_id,
        )

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            raise ProviderUnavailable(
                f"stability answered {response.status_code} with a body that is not JSON.",
                details={"provider": self.name, "status": response.status_code},
            ) from None
        if not isinstance(body, dict):
            raise ProviderUnavailable(
                "stability answered JSON that is not an object.", details={"provider": self.name}
            )
        return body

    def _ratio_label(self, label: str) -> str:
        if label in ASPECT_RATIOS:
            return label
        try:
            value = parse_aspect_ratio(label)
        except ValueError as exc:
            raise ProviderRejected(
                str(exc), details={"provider": self.name, "field": "aspect_ratio"}
            ) from None
        return nearest_aspect_ratio(value, 1.0)

    def _style_preset(self, style: str | None) -> str | None:
        if not style:
            return None
        valid = get_catalog().style_presets()
        if style not in valid:
            raise ProviderRejected(
                f"Unknown style_preset '{style}'. Stability's presets: {', '.join(valid)}.",
                details={"provider": self.name, "field": "style_preset", "valid_choices": valid},
            )
        return style

    def _default_upscale_prompt(self, mode: str) -> str:
        try:
            prompt = get_catalog().upscale_mode(mode).default_prompt
        except DomainError:
            prompt = None
        return prompt or DEFAULT_PROMPTS[mode]

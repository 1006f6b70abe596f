"""The provider protocol: one method per capability; a call either returns outputs now (`Succeeded`)
or a provider job to poll (`Submitted`), and `poll` moves it on (`Running`, `Succeeded`, `Failed`).

Requests carry catalog model ids (see imagestudio.catalog): an adapter maps them to its endpoint.
Images travel as bytes with their size, so adapters never decode what they do not need to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from imagestudio.errors import DomainError

Capability = Literal[
    "text-to-image", "edit", "upscale", "control", "image-to-video", "talking-avatar", "image-to-3d"
]
EditOperationName = Literal[
    "remove_background",
    "inpaint",
    "outpaint",
    "search_replace",
    "search_recolor",
    "relight",
    "general_edit",
    "erase",
]
OutputFormat = Literal["png", "jpeg", "webp"]


# ----------------------------------------------------------------------------- media


@dataclass(frozen=True)
class Media:
    """An input file: image bytes (with their size) or audio bytes (with their duration)."""

    data: bytes = field(repr=False)
    mime: str
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    filename: str = "input"


@dataclass(frozen=True)
class Output:
    """One result file: bytes, or a provider URL to copy into our bucket at once (they expire)."""

    mime: str
    data: bytes | None = field(default=None, repr=False)
    url: str | None = None
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    seed: int | None = None
    extra: dict[str, object] = field(default_factory=dict)


# ----------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class GenerateRequest:
    prompt: str
    model: str
    width: int
    height: int
    negative_prompt: str | None = None
    aspect_ratio: str | None = None
    style_preset: str | None = None
    seed: int | None = None
    steps: int | None = None
    guidance_scale: float | None = None
    output_format: OutputFormat = "png"


@dataclass(frozen=True)
class EditRequest:
    operation: EditOperationName
    image: Media
    model: str | None = None
    prompt: str | None = None
    negative_prompt: str | None = None
    mask: Media | None = None
    search_prompt: str | None = None  # search_replace: what to find
    select_prompt: str | None = None  # search_recolor: what to recolor
    grow_mask: int | None = None
    left: int = 0  # outpaint: pixels to add on each side
    right: int = 0
    up: int = 0
    down: int = 0
    creativity: float | None = None
    background_prompt: str | None = None  # relight
    background_image: Media | None = None
    lighting_image: Media | None = None
    light_source_direction: Literal["left", "right", "above", "below"] | None = None
    light_source_strength: float | None = None
    preserve_original_subject: float | None = None
    original_background_depth: float | None = None
    extra_images: tuple[Media, ...] = ()  # multi-image edit models
    seed: int | None = None
    output_format: OutputFormat = "png"


@dataclass(frozen=True)
class UpscaleRequest:
    mode: Literal["fast", "conservative", "creative"]
    image: Media
    prompt: str | None = None
    negative_prompt: str | None = None
    creativity: float | None = None
    target_long_side: int | None = None
    seed: int | None = None
    output_format: OutputFormat = "png"


@dataclass(frozen=True)
class ControlRequest:
    operation: Literal["sketch", "structure", "style", "style_transfer"]
    image: Media  # the control image (sketch, structure, style reference, or init image for transfer)
    prompt: str | None = None
    negative_prompt: str | None = None
    style_image: Media | None = None  # style_transfer
    control_strength: float | None = None
    fidelity: float | None = None
    style_strength: float | None = None
    composition_fidelity: float | None = None
    change_strength: float | None = None
    aspect_ratio: str | None = None
    seed: int | None = None
    output_format: OutputFormat = "png"


@dataclass(frozen=True)
class VideoRequest:
    image: Media
    model: str
    prompt: str | None = None
    negative_prompt: str | None = None
    resolution: Literal["480p", "720p", "1080p"] = "720p"
    duration: int = 5
    audio: Media | None = None
    enable_prompt_expansion: bool = True
    seed: int | None = None
    callback_url: str | None = None  # callback mode: where the provider posts when done


@dataclass(frozen=True)
class AvatarRequest:
    image: Media
    audio: Media
    model: str
    resolution: Literal["480p", "720p"] = "720p"
    prompt: str | None = None
    seed: int | None = None
    callback_url: str | None = None  # callback mode: where the provider posts when done


@dataclass(frozen=True)
class ThreeDRequest:
    image: Media
    model: str
    texture_resolution: int | None = None
    foreground_ratio: float | None = None
    remesh: Literal["none", "triangle", "quad"] | None = None
    guidance_scale: float | None = None
    seed: int | None = None
    callback_url: str | None = None  # callback mode: where the provider posts when done


@dataclass(frozen=True)
class FaceSwapRequest:
    """Put the face shown in `face_image` in place of face `target_index` of `image` (0 = the largest
    face, as WaveSpeed counts). Check the faces first (`imagestudio.imaging.faceswap.check_faces`):
    `target_face` is the crop of the face to replace, which Akool's model needs."""

    image: Media
    face_image: Media
    model: str
    target_index: int = 0
    target_gender: Literal["all", "female", "male"] | None = None
    target_face: Media | None = None
    face_enhance: bool = False
    output_format: OutputFormat = "jpeg"


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Succeeded:
    outputs: list[Output]
    provider_job_id: str | None = None
    cost_usd: str | None = None  # what the provider reported charging, when it does


@dataclass(frozen=True)
class Submitted:
    """An asynchronous provider job: poll it after `poll_after` seconds."""

    provider_job_id: str
    poll_after: float = 5.0


@dataclass(frozen=True)
class Running:
    progress: int | None = None  # 0..100 when the provider says
    poll_after: float = 5.0


@dataclass(frozen=True)
class Failed:
    code: str
    reason: str
    retryable: bool = False


CallResult = Succeeded | Submitted
PollResult = Running | Succeeded | Failed


# ----------------------------------------------------------------------------- errors


class ProviderUnavailable(DomainError):
    """Quota (429), timeouts, connection errors and 5xx: ours to handle; the next provider may serve."""

    status = 503
    code = "provider_unavailable"


class ProviderRejected(DomainError):
    """The provider refused the input (400/413/422): the user's to fix."""

    status = 422
    code = "provider_rejected_input"


class Unsupported(DomainError):
    status = 422
    code = "capability_not_supported"


# ----------------------------------------------------------------------------- protocol


@runtime_checkable
class Provider(Protocol):
    name: str

    def generate(self, request: GenerateRequest) -> CallResult: ...
    def edit(self, request: EditRequest) -> CallResult: ...
    def upscale(self, request: UpscaleRequest) -> CallResult: ...
    def control(self, request: ControlRequest) -> CallResult: ...
    def image_to_video(self, request: VideoRequest) -> CallResult: ...
    def talking_avatar(self, request: AvatarRequest) -> CallResult: ...
    def image_to_3d(self, request: ThreeDRequest) -> CallResult: ...
    def face_swap(self, request: FaceSwapRequest) -> CallResult: ...
    def poll(self, provider_job_id: str) -> PollResult: ...
    def cancel(self, provider_job_id: str) -> bool: ...


class BaseProvider:
    """Capabilities a provider lacks answer `Unsupported` naming the capability."""

    name = "base"

    def _unsupported(self, capability: str) -> Unsupported:
        return Unsupported(f"{self.name} does not offer {capability}.", details={"provider": self.name})

    def generate(self, request: GenerateRequest) -> CallResult:
        raise self._unsupported("text-to-image")

    def edit(self, request: EditRequest) -> CallResult:
        raise self._unsupported(f"edit ({request.operation})")

    def upscale(self, request: UpscaleRequest) -> CallResult:
        raise self._unsupported("upscale")

    def control(self, request: ControlRequest) -> CallResult:
        raise self._unsupported("control")

    def image_to_video(self, request: VideoRequest) -> CallResult:
        raise self._unsupported("image-to-video")

    def talking_avatar(self, request: AvatarRequest) -> CallResult:
        raise self._unsupported("talking avatar")

    def image_to_3d(self, request: ThreeDRequest) -> CallResult:
        raise self._unsupported("image-to-3d")

    def face_swap(self, request: FaceSwapRequest) -> CallResult:
        raise self._unsupported("face swap")

    def poll(self, provider_job_id: str) -> PollResult:
        raise self._unsupported("asynchronous jobs")

    def cancel(self, provider_job_id: str) -> bool:
        return False

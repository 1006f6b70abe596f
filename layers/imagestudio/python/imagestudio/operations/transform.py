"""Long-running transforms: image-to-video, talking avatar, image-to-3D, run as Step Functions jobs.

The API side validates, stores the inputs in S3, opens the job with its credits reserved and starts
the provider-job state machine (execution name = job id, so a job cannot start twice), answering
202. The state machine's tasks call `submit`, `poll` and `fail` here: submit sends the inputs to the
provider; poll asks once and either says when to ask again (a backoff schedule), or stores the
output, charges and closes the job; any failure releases every reserved credit.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from PIL import Image
from pydantic import BaseModel, Field

from imagestudio import API_PREFIX
from imagestudio.catalog import get_catalog
from imagestudio.catalog.pricing import estimate
from imagestudio.config import Settings
from imagestudio.errors import Conflict, InvalidInput, NotFound
from imagestudio.ids import new_id
from imagestudio.imaging.audio import VerifiedAudio, decode_inline_audio, verify_audio
from imagestudio.imaging.output import open_image
from imagestudio.models.records import OPEN_STATUSES, Asset, AssetType, ErrorInfo, Job, utcnow
from imagestudio.models.text import PromptText
from imagestudio.notify.webhooks import check_webhook_url
from imagestudio.operations.asset_files import store_asset_files
from imagestudio.operations.core import output_bytes
from imagestudio.operations.inputs import resolve_input_image
from imagestudio.operations.jobs import ended, fail_job, open_job, succeed_job
from imagestudio.operations.tagging import tagged
from imagestudio.ports import Ports
from imagestudio.providers import registry
from imagestudio.providers.base import (
    AvatarRequest,
    CallResult,
    Failed,
    Media,
    Output,
    Running,
    Submitted,
    Succeeded,
    ThreeDRequest,
    VideoRequest,
)
from imagestudio.store.blobs import input_key

# Seconds between polls: grows, so a long job costs few more polls than a short one; the
# provider's own hint is a floor. Scaled by POLL_WAIT_SCALE (0 in tests, 0.1 offline).
BACKOFF = (5, 10, 20, 40, 80, 120)
MAX_POLLS = 200
DEADLINE_MINUTES = {"image-to-video": 30, "talking-avatar": 60, "image-to-3d": 15}


class _Inputs(BaseModel):
    webhook_url: str | None = Field(
        None,
        max_length=2048,
        description="https URL to POST (signed) when the job ends; see GET webhooks/secret.",
    )
    image: str | None = Field(None, description="Inline image (base64 or data URL).")
    asset_id: str | None = None
    upload_id: str | None = None
    seed: int | None = Field(None, ge=0, le=4_294_967_294)


class VideoStudioRequest(_Inputs):
    prompt: PromptText | None = Field(None, max_length=2000)
    negative_prompt: PromptText | None = Field(None, max_length=2000)
    model: str | None = None
    resolution: Literal["480p", "720p", "1080p"] = "720p"
    duration: Literal[5, 10] = 5
    audio: str | None = Field(None, description="Optional WAV or MP3 (3-30 s), base64 or data URL.")
    audio_asset_id: str | None = None
    audio_upload_id: str | None = None
    enable_prompt_expansion: bool = True


class AvatarStudioRequest(_Inputs):
    audio: str | None = Field(None, description="The speech, WAV or MP3, base64 or data URL.")
    audio_asset_id: str | None = Field(
        None, description="The speech as an audio asset (an uploaded WAV or MP3)."
    )
    audio_upload_id: str | None = Field(None, description="The speech as a ready audio upload.")
    model: Literal["infinitetalk", "hunyuan-avatar"] = "infinitetalk"
    resolution: Literal["480p", "720p"] = "720p"
    prompt: PromptText | None = Field(None, max_length=2000)


class ThreeDStudioRequest(_Inputs):
    model: Literal["stable-fast-3d", "spar3d"] = "stable-fast-3d"
    texture_resolution: Literal[512, 1024, 2048] | None = None
    foreground_ratio: float | None = Field(None, ge=0.1, le=2.0)
    remesh: Literal["none", "triangle", "quad"] | None = None
    guidance_scale: float | None = Field(None, ge=1, le=10)


AUDIO_LIMITS = {  # bytes, min and max seconds (catalog.md section 7)
    "image-to-video": (15 * 1024 * 1024, 3.0, 30.0),
    "infinitetalk": (50 * 1024 * 1024, 1.0, 600.0),
    "hunyuan-avatar": (50 * 1024 * 1024, 5.0, 120.0),
}


def _image_media(ports: Ports, owner: str, request: _Inputs) -> tuple[Media, Asset | None]:
    got = resolve_input_image(
        ports, owner, image=request.image, asset_id=request.asset_id, upload_id=request.upload_id
    )
    if got.image.bytes > 10 * 1024 * 1024:
        raise InvalidInput("The image is over 10 MB; the transform providers take at most 10 MB.")
    media = Media(data=got.image.data, mime=got.image.mime, width=got.image.width, height=got.image.height)
    return media, got.asset


def _audio(ports: Ports, owner: str, request: Any, limit: int, low: float, high: float) -> VerifiedAudio:
    """The request's audio, inline or by audio asset or upload (the caller's only), verified."""
    given = [n for n in ("audio", "audio_asset_id", "audio_upload_id") if getattr(request, n, None)]
    if len(given) != 1:
        raise InvalidInput(
            "Give the audio exactly one way: 'audio' (base64 or a data URL), 'audio_asset_id' "
            "or 'audio_upload_id'.",
            details={"field": "audio", "given": given},
        )
    if request.audio:
        data = decode_inline_audio(request.audio, max_bytes=limit)
    else:
        asset_id = request.audio_asset_id
        if request.audio_upload_id:
            upload = ports.uploads.get(owner, request.audio_upload_id)
            if upload.status != "ready" or not upload.asset_id:
                raise InvalidInput(f"Upload {upload.id} is {upload.status}; use it once it is ready.")
            asset_id = upload.asset_id
        asset = ports.assets.get(owner, str(asset_id))
        if asset.type != "audio":
            raise InvalidInput(
                f"Asset {asset.id} is a {asset.type}, not audio.", details={"field": "audio_asset_id"}
            )
        data = ports.blobs.get(asset.key, max_bytes=limit)
    return verify_audio(data, max_bytes=limit, min_seconds=low, max_seconds=high)


def start(ports: Ports, owner: str, operation: str, request: BaseModel, settings: Settings) -> Job:
    """Validate, store inputs, reserve and open the job, start its execution. Answered with 202."""
    if not isinstance(request, _Inputs):
        raise TypeError(request)
    image, parent = _image_media(ports, owner, request)
    audio = None
    params: dict[str, Any] = request.model_dump(
        exclude={
            "image",
            "audio",
            "asset_id",
            "upload_id",
            "webhook_url",
            "audio_asset_id",
            "audio_upload_id",
        },
        exclude_none=True,
    )
    if operation == "image-to-video":
        assert isinstance(request, VideoStudioRequest)
        quote = estimate(
            {
                "operation": operation,
                "model": request.model,
                "resolution": request.resolution,
                "duration": request.duration,
            }
        )
        if request.audio or request.audio_asset_id or request.audio_upload_id:
            audio = _audio(ports, owner, request, *AUDIO_LIMITS[operation])
    elif operation == "talking-avatar":
        assert isinstance(request, AvatarStudioRequest)
        audio = _audio(ports, owner, request, *AUDIO_LIMITS[request.model])
        quote = estimate(
            {
                "operation": operation,
                "model": request.model,
                "resolution": request.resolution,
                "duration_seconds": audio.duration,
            }
        )
        params["audio_seconds"] = audio.duration
    else:
        assert isinstance(request, ThreeDStudioRequest)
        quote = estimate({"operation": operation, "model": request.model})
    model = get_catalog().model(quote.model)
    job_id = new_id()
    keys = {"image": input_key(owner, job_id, "input-image")}
    ports.blobs.put(keys["image"], image.data, image.mime)
    if audio is not None:
        keys["audio"] = input_key(owner, job_id, "input-audio")
        ports.blobs.put(keys["audio"], audio.data, audio.mime)
    if request.webhook_url:
        check_webhook_url(request.webhook_url)
    inputs = {
        "managed_by": "stepfunctions",
        "webhook_url": request.webhook_url,
        "keys": keys,
        "image": {"mime": image.mime, "width": image.width, "height": image.height},
        "audio": {"mime": audio.mime, "duration": audio.duration} if audio else None,
        "params": params,
        "parent_id": parent.id if parent else None,
    }
    job = open_job(
        ports,
        owner,
        operation=operation,
        credits=quote.credits,
        usd=str(quote.usd),
        inputs=inputs,
        provider=model.provider,
        model=model.id,
        job_id=job_id,
        deadline=timedelta(minutes=DEADLINE_MINUTES[operation]),
        wavespeed_calls=1 if model.provider == "wavespeed" else 0,
    )
    try:
        ports.workflows.start(settings.provider_job_state_machine, job.id, {"job_id": job.id, "owner": owner})
    except Exception as exc:
        fail_job(
            ports,
            owner,
            job.id,
            code="not_started",
            message="The job could not be started; nothing was charged.",
        )
        raise Conflict("The job could not be started; nothing was charged. Try again.") from exc
    return job


def transform_estimate(operation: str, body: dict[str, Any]) -> Any:
    return estimate({**body, "operation": operation})


# ------------------------------------------------------------------ state machine tasks


def _request(ports: Ports, job: Job) -> tuple[str, Any]:
    keys = job.inputs["keys"]
    meta = job.inputs["image"]
    image = Media(
        data=ports.blobs.get(keys["image"]), mime=meta["mime"], width=meta["width"], height=meta["height"]
    )
    params = job.inputs.get("params") or {}
    audio = None
    if keys.get("audio"):
        audio = Media(
            data=ports.blobs.get(keys["audio"]),
            mime=job.inputs["audio"]["mime"],
            duration=job.inputs["audio"]["duration"],
        )
    model = job.model or ""
    provider_name = job.provider or "local"
    settings = ports.settings
    callback_url = (
        f"{settings.callback_base_url}{API_PREFIX}/webhooks/{provider_name}"
        if provider_name in settings.callback_providers and settings.callback_base_url
        else None
    )
    if job.operation == "image-to-video":
        return "image_to_video", VideoRequest(
            image=image,
            model=model,
            prompt=params.get("prompt"),
            negative_prompt=params.get("negative_prompt"),
            resolution=params.get("resolution", "720p"),
            duration=int(params.get("duration", 5)),
            audio=audio,
            enable_prompt_expansion=bool(params.get("enable_prompt_expansion", True)),
            seed=params.get("seed"),
            callback_url=callback_url,
        )
    if job.operation == "talking-avatar":
        assert audio is not None
        return "talking_avatar", AvatarRequest(
            image=image,
            audio=audio,
            model=model,
            resolution=params.get("resolution", "720p"),
            prompt=params.get("prompt"),
            seed=params.get("seed"),
            callback_url=callback_url,
        )
    return "image_to_3d", ThreeDRequest(
        image=image,
        model=model,
        texture_resolution=params.get("texture_resolution"),
        foreground_ratio=params.get("foreground_ratio"),
        remesh=params.get("remesh"),
        guidance_scale=params.get("guidance_scale"),
        seed=params.get("seed"),
        callback_url=callback_url,
    )


def wait_seconds(polls: int, hint: float | None, scale: float) -> int:
    base = BACKOFF[min(polls, len(BACKOFF) - 1)]
    return max(0, math.ceil(max(base, hint or 0) * scale))


def submit(ports: Ports, owner: str, job_id: str, scale: float) -> dict[str, Any]:
    job = ports.jobs.get(owner, job_id)
    if job.status != "queued":
        return {"status": job.status, "polls": 0, "wait": 0}  # a retried task after success: nothing to do
    method, request = _request(ports, job)
    provider = registry.provider(job.provider or "local")
    result: CallResult = getattr(provider, method)(request)
    if isinstance(result, Succeeded):
        ports.jobs.transition(owner, job_id, from_statuses={"queued"}, to="running", started_at=utcnow())
        return _finish(ports, owner, job_id, result, polls=0)
    assert isinstance(result, Submitted)
    provider_name = job.provider or "local"
    ports.jobs.map_provider_job(provider_name, result.provider_job_id, owner, job_id)
    ports.jobs.transition(
        owner,
        job_id,
        from_statuses={"queued"},
        to="running",
        provider_job_id=result.provider_job_id,
        started_at=utcnow(),
        progress=5,
    )
    callback = provider_name in ports.settings.callback_providers
    return {
        "status": "running",
        "polls": 0,
        "wait": wait_seconds(0, result.poll_after, scale),
        "callback": callback,
        "callback_timeout": max(1, math.ceil(ports.settings.callback_timeout_seconds * scale))
        if callback
        else 0,
    }


def await_callback(ports: Ports, owner: str, job_id: str, token: str) -> dict[str, Any]:
    """Callback mode: keep the task token on the job; the provider's webhook resumes the machine."""
    job = ports.jobs.get(owner, job_id)
    if job.status != "running":
        ports.workflows.resume(token, {"status": job.status, "polls": 0, "wait": 0, "callback": False})
        return {"status": job.status}
    with contextlib.suppress(Conflict):
        ports.jobs.transition(
            owner, job_id, from_statuses={"running"}, to="running", inputs={**job.inputs, "task_token": token}
        )
    return {"status": "waiting"}


def webhook(ports: Ports, provider: str, provider_job_id: str, scale: float) -> dict[str, Any]:
    """A verified provider webhook: move the job on now (store and settle when done) and resume the
    machine with the outcome. Unknown provider jobs answer NotFound."""
    owner, job_id = ports.jobs.provider_job_owner(provider, provider_job_id)
    job = ports.jobs.get(owner, job_id)
    polls = int(job.inputs.get("polls", 0))
    step = poll(ports, owner, job_id, polls, scale) if job.status == "running" else {"status": job.status}
    step = {"polls": polls, "wait": 0, **step, "callback": False}
    token = ports.jobs.get(owner, job_id).inputs.get("task_token") or job.inputs.get("task_token")
    if token:
        ports.workflows.resume(str(token), step)
    return {"job_id": job_id, **step}


def poll(
    ports: Ports, owner: str, job_id: str, polls: int, scale: float, now: datetime | None = None
) -> dict[str, Any]:
    job = ports.jobs.get(owner, job_id)
    if job.status != "running":
        return {"status": job.status, "polls": polls, "wait": 0}  # canceled or settled meanwhile
    polls += 1
    if (job.deadline and (now or utcnow()) > job.deadline) or polls > MAX_POLLS:
        expire(ports, owner, job)
        return {"status": "expired", "polls": polls, "wait": 0}
    provider = registry.provider(job.provider or "local")
    result = provider.poll(job.provider_job_id or "")
    if isinstance(result, Running):
        fields: dict[str, Any] = {"inputs": {**job.inputs, "polls": polls, "provider_status": "running"}}
        if result.progress is not None:
            fields["progress"] = max(job.progress, min(99, result.progress))
        with contextlib.suppress(Conflict):  # moved on meanwhile: the next poll sees it
            ports.jobs.transition(owner, job_id, from_statuses={"running"}, to="running", **fields)
        return {
            "status": "running",
            "polls": polls,
            "wait": wait_seconds(polls, result.poll_after, scale),
            "callback": False,
        }
    if isinstance(result, Failed):
        fail_job(ports, owner, job_id, code=result.code, message=result.reason)
        return {"status": "failed", "polls": polls, "wait": 0}
    return _finish(ports, owner, job_id, result, polls=polls)


def expire(ports: Ports, owner: str, job: Job) -> None:
    ports.ledger.release(owner, job.id, "deadline passed")
    expired = ports.jobs.transition(
        owner,
        job.id,
        from_statuses=OPEN_STATUSES,
        to="expired",
        error=ErrorInfo(code="expired", message="The provider did not finish in time; credits returned."),
    )
    if job.provider_job_id:
        registry.provider(job.provider or "local").cancel(job.provider_job_id)
    ended(ports, expired)


def fail(ports: Ports, owner: str, job_id: str, error: dict[str, Any] | None) -> dict[str, Any]:
    """The Catch path: release the credits and record why (unless the job already ended)."""
    job = ports.jobs.get(owner, job_id)
    if job.status not in OPEN_STATUSES:
        return {"status": job.status}
    cause = (error or {}).get("Cause") or ""
    try:
        message = json.loads(cause).get("errorMessage", cause) if cause.startswith("{") else cause
    except ValueError:
        message = cause
    code = (error or {}).get("Error") or "failed"
    fail_job(ports, owner, job_id, code=str(code), message=str(message)[:500] or "The job failed.")
    return {"status": "failed"}


MIME_EXT = {"image/webp": "webp", "image/gif": "gif", "video/mp4": "mp4", "model/gltf-binary": "glb"}
ASSET_TYPE: dict[str, AssetType] = {
    "image-to-video": "video",
    "talking-avatar": "video",
    "image-to-3d": "model3d",
}


def _finish(ports: Ports, owner: str, job_id: str, result: Succeeded, *, polls: int) -> dict[str, Any]:
    job = ports.jobs.get(owner, job_id)
    if not result.outputs:
        fail_job(ports, owner, job_id, code="provider_error", message="The provider returned no output.")
        return {"status": "failed", "polls": polls, "wait": 0}
    assets = [_store(ports, owner, job, output) for output in result.outputs]
    try:
        succeed_job(
            ports,
            owner,
            job_id,
            actual_credits=job.credits_reserved,
            outputs=[a.id for a in assets],
            inputs={**job.inputs, "polls": polls, "provider_status": "succeeded"},
        )
    except (Conflict, NotFound):
        return {"status": ports.jobs.get(owner, job_id).status, "polls": polls, "wait": 0}
    return {"status": "succeeded", "polls": polls, "wait": 0}


def _store(ports: Ports, owner: str, job: Job, output: Output) -> Asset:
    data = output_bytes(job.provider or "local", output)
    mime = output.mime
    asset_id = new_id()
    poster = _poster(ports, job, data, mime)
    files = store_asset_files(
        ports, owner, asset_id, data=data, mime=mime, extension=MIME_EXT.get(mime, "bin"), pixels=poster
    )
    width, height, duration = output.width, output.height, output.duration
    if mime.startswith("image/"):
        with Image.open(io.BytesIO(data)) as im:
            width, height = im.size
            frames = int(getattr(im, "n_frames", 1))
            if duration is None and frames > 1:
                duration = float(sum(_frame_ms(im, i) for i in range(frames))) / 1000
    asset = Asset(
        id=asset_id,
        owner=owner,
        type=ASSET_TYPE[job.operation],
        key=files.key,
        thumbnail_key=files.thumbnail_key,
        mime=mime,
        bytes=len(data),
        width=width,
        height=height,
        duration=duration,
        prompt=(job.inputs.get("params") or {}).get("prompt"),
        provider=job.provider,
        model=job.model,
        operation=job.operation,
        job_id=job.id,
        cost_credits=job.credits_reserved,
        source="transformed",
        parent_id=job.inputs.get("parent_id"),
        metadata={
            "polls": job.inputs.get("polls"),
            **{k: v for k, v in output.extra.items() if isinstance(v, (str, int, float, bool))},
        },
    )
    return ports.assets.create(tagged(asset, poster))


def _frame_ms(im: Image.Image, index: int) -> int:
    im.seek(index)
    return int(im.info.get("duration", 0))


def _poster(ports: Ports, job: Job, data: bytes, mime: str) -> Image.Image:
    """A poster frame: the first frame of an animation, else the input image (a GLB has no pixels)."""
    if mime.startswith("image/"):
        return open_image(data).convert("RGBA")
    return open_image(ports.blobs.get(job.inputs["keys"]["image"])).convert("RGBA")


def usd(value: Any) -> Decimal:
    return Decimal(str(value))

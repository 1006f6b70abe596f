"""Long-running transforms: image-to-video, talking avatar, image-to-3D, run as Step Functions jobs.

The API side validates, stores the inputs in S3, opens the job with its credits reserved and starts
the provider-job state machine (execution name = job id, so a job cannot start twice), answering
202. The state machine's tasks call `submit`, `poll` and `fail` here: submit sends the inputs to the
provider; poll asks once and either says when to ask again (a backoff schedule), or stores the
output, charges and closes the job; any failure releases every reserved credit.
"""

from __future__ import annotations

import contextlib
import json
import math
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from imagestudio.catalog import get_catalog
from imagestudio.errors import Conflict, InvalidInput
from imagestudio.ids import new_id
from imagestudio.imaging.audio import VerifiedAudio, decode_inline_audio, verify_audio
from imagestudio.models.records import OPEN_STATUSES, Asset, AssetType, ErrorInfo, Job, utcnow
from imagestudio.models.requests import RequestModel
from imagestudio.notify.webhooks import check_webhook_url
from imagestudio.operations.core import Outcome
from imagestudio.operations.finisher import Finish, finish_job
from imagestudio.operations.inputs import library_asset, resolve_input_image
from imagestudio.operations.jobs import ended, fail_job, open_job
from imagestudio.operations.registry import InputFacts, OperationSpec, Quote, quote_of, register
from imagestudio.ports import Ports
from imagestudio.providers import registry
from imagestudio.providers.base import (
    AvatarRequest,
    CallResult,
    Failed,
    Media,
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


class _Inputs(RequestModel):
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
    prompt: str | None = Field(None, max_length=2000)
    negative_prompt: str | None = Field(None, max_length=2000)
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
    prompt: str | None = Field(None, max_length=2000)


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
        asset = library_asset(
            ports,
            owner,
            asset_id=request.audio_asset_id,
            upload_id=request.audio_upload_id,
            field="audio_upload_id",
        )
        assert asset is not None
        if asset.type != "audio":
            raise InvalidInput(
                f"Asset {asset.id} is a {asset.type}, not audio.", details={"field": "audio_asset_id"}
            )
        data = ports.blobs.get(asset.key, max_bytes=limit)
    return verify_audio(data, max_bytes=limit, min_seconds=low, max_seconds=high)


def start(ports: Ports, owner: str, operation: str, request: BaseModel) -> Outcome:
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
    if operation == "talking-avatar":
        assert isinstance(request, AvatarStudioRequest)
        audio = _audio(ports, owner, request, *AUDIO_LIMITS[request.model])
        params["audio_seconds"] = audio.duration
    elif (
        getattr(request, "audio", None)
        or getattr(request, "audio_asset_id", None)
        or (getattr(request, "audio_upload_id", None))
    ):
        audio = _audio(ports, owner, request, *AUDIO_LIMITS[operation])
    quote = SPECS[operation].price(request, InputFacts(audio_seconds=audio.duration if audio else None))
    model = get_catalog().model(quote.model or "")
    job_id = new_id()
    keys = {"image": input_key(owner, job_id, "input-image")}
    ports.blobs.put(keys["image"], image.data, image.mime)
    if audio is not None:
        keys["audio"] = input_key(owner, job_id, "input-audio")
        ports.blobs.put(keys["audio"], audio.data, audio.mime)
    if request.webhook_url:
        check_webhook_url(request.webhook_url)
    finish = Finish(
        operation=operation,
        source="transformed",
        asset_type=ASSET_TYPE[operation],
        output_format=None,
        prompt=params.get("prompt"),
        parent_id=parent.id if parent else None,
        poster_key=keys["image"],
    )
    inputs = {
        "webhook_url": request.webhook_url,
        "keys": keys,
        "image": {"mime": image.mime, "width": image.width, "height": image.height},
        "audio": {"mime": audio.mime, "duration": audio.duration} if audio else None,
        "params": params,
        "parent_id": parent.id if parent else None,
        "finish": finish.as_inputs(),
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
        deadline=timedelta(minutes=SPECS[operation].deadline_minutes),
        wavespeed_calls=1 if model.provider == "wavespeed" else 0,
    )
    try:
        ports.workflows.start(
            ports.settings.provider_job_state_machine, job.id, {"job_id": job.id, "owner": owner}
        )
    except Exception as exc:
        fail_job(
            ports,
            owner,
            job.id,
            code="not_started",
            message="The job could not be started; nothing was charged.",
        )
        raise Conflict("The job could not be started; nothing was charged. Try again.") from exc
    return Outcome(job=job, units=[], estimated=quote.price, charged=0)


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
        )
    return "image_to_3d", ThreeDRequest(
        image=image,
        model=model,
        texture_resolution=params.get("texture_resolution"),
        foreground_ratio=params.get("foreground_ratio"),
        remesh=params.get("remesh"),
        guidance_scale=params.get("guidance_scale"),
        seed=params.get("seed"),
    )


def wait_seconds(polls: int, hint: float | None, scale: float) -> int:
    base = BACKOFF[min(polls, len(BACKOFF) - 1)]
    return max(0, math.ceil(max(base, hint or 0) * scale))


def submit(ports: Ports, owner: str, job_id: str, scale: float) -> dict[str, Any]:
    job = ports.jobs.get(owner, job_id)
    provider_name = job.provider or "local"
    if job.status == "running" and job.provider_job_id:
        # Submitted already: by its API call (relight, creative upscale), a retried task, or a new
        # execution re-driving the job after its first one was lost: the machine polls from where it was.
        return {**_running(ports, provider_name, None, scale), "polls": int(job.inputs.get("polls", 0))}
    if job.status != "queued":
        return {"status": job.status, "polls": 0, "wait": 0, "callback": False}  # nothing left to do
    method, request = _request(ports, job)
    provider = registry.provider(provider_name)
    result: CallResult = getattr(provider, method)(request)
    if isinstance(result, Succeeded):
        ports.jobs.transition(owner, job_id, from_statuses={"queued"}, to="running", started_at=utcnow())
        return _finish(ports, owner, job_id, result, polls=0)
    assert isinstance(result, Submitted)
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
    return _running(ports, provider_name, result.poll_after, scale)


def _running(ports: Ports, provider_name: str, hint: float | None, scale: float) -> dict[str, Any]:
    """The first step after a submit: wait for the provider's webhook (callback mode) or poll."""
    callback = provider_name in ports.settings.callback_providers
    return {
        "status": "running",
        "polls": 0,
        "wait": wait_seconds(0, hint, scale),
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


ASSET_TYPE: dict[str, AssetType] = {
    "image-to-video": "video",
    "talking-avatar": "video",
    "image-to-3d": "model3d",
}


def _finish(ports: Ports, owner: str, job_id: str, result: Succeeded, *, polls: int) -> dict[str, Any]:
    job = ports.jobs.get(owner, job_id)
    ended = finish_job(
        ports, owner, job, result, inputs={**job.inputs, "polls": polls, "provider_status": "succeeded"}
    )
    return {"status": ended.status, "polls": polls, "wait": 0}


def usd(value: Any) -> Decimal:
    return Decimal(str(value))


def _video_price(request: VideoStudioRequest, facts: InputFacts) -> Quote:
    body = {"model": request.model, "resolution": request.resolution, "duration": request.duration}
    return quote_of({"operation": "image-to-video", **body})


def _avatar_price(request: AvatarStudioRequest, facts: InputFacts) -> Quote:
    """Priced by the speech's length (read from the audio, or from its library record in a preview)."""
    body = {"model": request.model, "resolution": request.resolution, "duration_seconds": facts.audio_seconds}
    return quote_of({"operation": "talking-avatar", **body})


def _3d_price(request: ThreeDStudioRequest, facts: InputFacts) -> Quote:
    return quote_of({"operation": "image-to-3d", "model": request.model})


def _spec(name: str, request: type[_Inputs], price: Any, deadline_minutes: int) -> OperationSpec:
    return register(
        OperationSpec(
            name=name,
            request=request,
            run=lambda ports, owner, body: start(ports, owner, name, body),
            price=price,
            usage=name,
            long=True,
            deadline_minutes=deadline_minutes,
        )
    )


SPECS: dict[str, OperationSpec] = {
    spec.name: spec
    for spec in (
        _spec("image-to-video", VideoStudioRequest, _video_price, 30),
        _spec("talking-avatar", AvatarStudioRequest, _avatar_price, 60),
        _spec("image-to-3d", ThreeDStudioRequest, _3d_price, 15),
    )
}

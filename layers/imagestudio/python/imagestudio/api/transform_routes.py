"""POST transform/image-to-video, transform/talking-avatar, transform/image-to-3d (202 + job), and
POST transform/estimate-cost."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel

from imagestudio import API_PREFIX
from imagestudio.api.context import caller, ports
from imagestudio.api.idempotency import HEADER, run_idempotent
from imagestudio.api.views import JobView
from imagestudio.catalog.pricing import Estimate, estimate
from imagestudio.errors import unknown_choice
from imagestudio.models.requests import RequestModel
from imagestudio.operations import registry
from imagestudio.operations.transform import AvatarStudioRequest, ThreeDStudioRequest, VideoStudioRequest

router = Router()

ACCEPTED: dict[int, OpenAPIResponse] = {
    202: {
        "description": "The job is running: follow links.status_url (also the Location header).",
        "content": {"application/json": {"model": JobView}},
    }
}


def _accepted(operation: str, request: BaseModel) -> Response[JobView]:
    who = caller(router)

    def run() -> dict[str, Any]:
        p = ports()
        job = registry.get(operation).run(p, who.user_id, request).job
        assert job is not None
        return JobView.of(job, p).model_dump(mode="json")

    key = router.current_event.headers.get(HEADER)
    stored = run_idempotent(
        key,
        user=who.user_id,
        scope=operation,
        body=request.model_dump(mode="json"),
        run=run,
        context=router.lambda_context,
    )
    view = JobView.model_validate(stored)
    return Response(
        status_code=202,
        content_type=content_types.APPLICATION_JSON,
        body=view,
        headers={"Location": view.links.status_url},
    )


@router.post(
    f"{API_PREFIX}/transform/image-to-video",
    summary="Turn an image into a video (WAN 2.5): a job on Step Functions",
    description="480p, 720p or 1080p, 5 or 10 s, optional audio (WAV or MP3, 3-30 s). Credits are reserved "
    "now and charged when the video is stored; any failure returns them. Accepts an Idempotency-Key.",
    tags=["Transform"],
    responses=ACCEPTED,
)
def image_to_video(request: VideoStudioRequest) -> Response[JobView]:
    return _accepted("image-to-video", request)


@router.post(
    f"{API_PREFIX}/transform/talking-avatar",
    summary="A talking avatar from a portrait and speech (InfiniteTalk or Hunyuan Avatar): a job",
    description="Priced by the audio's duration (InfiniteTalk per second with a 5 s minimum; Hunyuan per "
    "started 5 s block, 5-120 s). Accepts an Idempotency-Key.",
    tags=["Transform"],
    responses=ACCEPTED,
)
def talking_avatar(request: AvatarStudioRequest) -> Response[JobView]:
    return _accepted("talking-avatar", request)


@router.post(
    f"{API_PREFIX}/transform/image-to-3d",
    summary="A textured 3D model (GLB) from an image (Stable Fast 3D or SPAR3D): a job",
    tags=["Transform"],
    responses=ACCEPTED,
)
def image_to_3d(request: ThreeDStudioRequest) -> Response[JobView]:
    return _accepted("image-to-3d", request)


class TransformEstimateRequest(RequestModel):
    operation: str
    model: str | None = None
    resolution: str | None = None
    duration: int | None = None
    duration_seconds: float | None = None


@router.post(
    f"{API_PREFIX}/transform/estimate-cost",
    summary="Cost of a transform, before running it",
    tags=["Transform"],
)
def estimate_transform(request: TransformEstimateRequest) -> Estimate:
    long = registry.long_operations()
    if request.operation not in long:
        raise unknown_choice("operation", request.operation, long, status=422)
    return estimate(request.model_dump(exclude_none=True))

"""POST upscale (Upscale Studio)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from imagestudio import API_PREFIX
from imagestudio.api.operation_views import OperationResponse
from imagestudio.api.studio import STUDIO_RESPONSES, studio_answer
from imagestudio.operations.upscale import UpscaleStudioRequest, upscale

router = Router()


@router.post(
    f"{API_PREFIX}/upscale",
    summary="Upscale an image: fast 4x, conservative, creative or auto",
    description="auto is conservative when the target long side is at least 3000 px, else fast. A preset "
    "(web 2048, print 3072, social 1080 px) sets the target long side unless target_long_side is given; "
    "with a target the result's long side is exactly that. Each mode's input limits are checked before "
    "any credit is reserved. creative runs as a long job: the answer is 202 with the job's links. "
    "Accepts an Idempotency-Key header.",
    tags=["Upscale"],
    responses=STUDIO_RESPONSES,
)
def upscale_image(request: UpscaleStudioRequest) -> Response[OperationResponse]:
    return studio_answer(
        router,
        scope="upscale",
        request=request,
        response_format=request.response_format,
        run=lambda p, owner: upscale(p, owner, request),
    )

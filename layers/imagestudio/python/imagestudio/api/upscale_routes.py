"""POST upscale (Upscale Studio)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from imagestudio import API_PREFIX
from imagestudio.api.operation_views import OperationResponse
from imagestudio.api.original_answers import OriginalStudioAnswer, original_single
from imagestudio.api.studio import SHAPES, StudioBody, studio_answer, studio_responses
from imagestudio.operations.upscale import UpscaleStudioRequest, upscale
from imagestudio.ports import Ports

router = Router()


def _original(answer: OperationResponse, ports: Ports, owner: str) -> OriginalStudioAnswer:
    return original_single(answer, ports, owner, mode=answer.details.get("mode"))


@router.post(
    f"{API_PREFIX}/upscale",
    summary="Upscale an image: fast 4x, conservative, creative or auto",
    description="auto is conservative when the target long side is at least 3000 px, else fast. A preset "
    "(web 2048, print 3072, social 1080 px) sets the target long side unless target_long_side is given; "
    "with a target the result's long side is exactly that. Each mode's input limits are checked before "
    "any credit is reserved. creative runs as a long job: the answer is 202 with the job's links. "
    "Accepts an Idempotency-Key header." + SHAPES,
    tags=["Upscale"],
    responses=studio_responses(OriginalStudioAnswer),
)
def upscale_image(request: UpscaleStudioRequest) -> Response[StudioBody]:
    return studio_answer(
        router,
        scope="upscale",
        request=request,
        run=upscale,
        original=_original,
    )

"""POST control (Control Studio), and POST control/process: the same operation at the original's path."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from imagestudio import API_PREFIX
from imagestudio.api.operation_views import OperationResponse
from imagestudio.api.original_answers import OriginalStudioAnswer, original_single
from imagestudio.api.studio import SHAPES, StudioBody, studio_answer, studio_responses
from imagestudio.operations.control import ControlStudioRequest, control
from imagestudio.ports import Ports

router = Router()


def _original(answer: OperationResponse, ports: Ports, owner: str) -> OriginalStudioAnswer:
    return original_single(answer, ports, owner, operation=answer.details.get("control_operation"))


@router.post(
    f"{API_PREFIX}/control",
    summary="Generate under control: sketch, structure, style or style transfer",
    description="Strengths are 0..1 (defaults: control_strength 0.7, fidelity 0.5, style_strength 1.0, "
    "composition_fidelity 0.9, change_strength 0.9); style_transfer needs style_image (inline, "
    "style_image_asset_id or style_image_upload_id) besides the content image. Outputs record the input "
    "asset as their parent and the strengths used. Accepts an Idempotency-Key header." + SHAPES,
    tags=["Control"],
    responses=studio_responses(OriginalStudioAnswer),
)
def control_image(request: ControlStudioRequest) -> Response[StudioBody]:
    return studio_answer(
        router,
        scope="control",
        request=request,
        run=control,
        original=_original,
    )


@router.post(
    f"{API_PREFIX}/control/process",
    summary="Control Studio at the original Image Studio's path (the same operation as POST control)",
    description="The same operation and body as POST control; the original client's names are accepted "
    "(control_image_base64 for image, style_image_base64 for style_image)." + SHAPES,
    tags=["Control"],
    responses=studio_responses(OriginalStudioAnswer),
)
def control_process(request: ControlStudioRequest) -> Response[StudioBody]:
    return studio_answer(router, scope="control", request=request, run=control, original=_original)

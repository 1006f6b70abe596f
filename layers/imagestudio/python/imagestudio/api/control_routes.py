"""POST control (Control Studio)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from imagestudio import API_PREFIX
from imagestudio.api.operation_views import OperationResponse
from imagestudio.api.studio import STUDIO_RESPONSES, studio_answer
from imagestudio.operations.control import ControlStudioRequest, control

router = Router()


@router.post(
    f"{API_PREFIX}/control",
    summary="Generate under control: sketch, structure, style or style transfer",
    description="Strengths are 0..1 (defaults: control_strength 0.7, fidelity 0.5, style_strength 1.0, "
    "composition_fidelity 0.9, change_strength 0.9); style_transfer needs style_image (inline, "
    "style_image_asset_id or style_image_upload_id) besides the content image. Outputs record the input "
    "asset as their parent and the strengths used. Accepts an Idempotency-Key header.",
    tags=["Control"],
    responses=STUDIO_RESPONSES,
)
def control_image(request: ControlStudioRequest) -> Response[OperationResponse]:
    return studio_answer(
        router,
        scope="control",
        request=request,
        response_format=request.response_format,
        run=lambda p, owner: control(p, owner, request),
    )

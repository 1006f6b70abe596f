"""POST edit/process (Edit Studio)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from imagestudio import API_PREFIX
from imagestudio.api.operation_views import OperationResponse
from imagestudio.api.studio import STUDIO_RESPONSES, studio_answer
from imagestudio.operations.edit import EditStudioRequest, edit

router = Router()


@router.post(
    f"{API_PREFIX}/edit/process",
    summary="Edit an image: remove background, inpaint, outpaint, search & replace/recolor, relight, "
    "general edit",
    description="Each operation's required inputs are checked before any credit is reserved (GET "
    "edit/operations lists them). Images come inline (base64 or a data URL), as asset_id or as upload_id; "
    "the same three ways for mask, background_image and lighting_image. A mask of the image's aspect "
    "ratio at another scale is resized; another aspect ratio is refused. general_edit without a model "
    "uses the recommended one and says why (details.recommendation). relight runs as a long job: the "
    "answer is 202 with the job's links. Outputs record the input asset as their parent. Accepts an "
    "Idempotency-Key header.",
    tags=["Edit"],
    responses=STUDIO_RESPONSES,
)
def process_edit(request: EditStudioRequest) -> Response[OperationResponse]:
    return studio_answer(
        router,
        scope="edit",
        request=request,
        response_format=request.response_format,
        run=lambda p, owner: edit(p, owner, request),
    )

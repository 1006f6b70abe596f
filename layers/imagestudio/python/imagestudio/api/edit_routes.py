"""POST edit/process (Edit Studio)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from imagestudio import API_PREFIX
from imagestudio.api.operation_views import OperationResponse
from imagestudio.api.original_answers import OriginalStudioAnswer, original_single
from imagestudio.api.studio import SHAPES, StudioBody, studio_answer, studio_responses
from imagestudio.operations.edit import EditStudioRequest, edit
from imagestudio.ports import Ports

router = Router()


def _original(answer: OperationResponse, ports: Ports, owner: str) -> OriginalStudioAnswer:
    return original_single(answer, ports, owner, operation=answer.details.get("edit_operation"))


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
    "Idempotency-Key header." + SHAPES,
    tags=["Edit"],
    responses=studio_responses(OriginalStudioAnswer),
)
def process_edit(request: EditStudioRequest) -> Response[StudioBody]:
    return studio_answer(
        router,
        scope="edit",
        request=request,
        run=edit,
        original=_original,
    )

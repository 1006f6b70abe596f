"""POST uploads (a presigned POST under your own prefix) and GET uploads/{id} (pending, ready, rejected)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel, Field

from imagestudio import API_PREFIX
from imagestudio.api.context import caller, ports
from imagestudio.api.idempotency import HEADER, run_idempotent
from imagestudio.api.views import AssetView, UploadView
from imagestudio.models.requests import RequestModel
from imagestudio.operations.social import SocialRecipe
from imagestudio.operations.uploads import ALLOWED_CONTENT_TYPES, MAX_UPLOAD_BYTES, start_upload

router = Router()


class UploadRequest(RequestModel):
    content_type: str = Field(description=f"One of: {', '.join(ALLOWED_CONTENT_TYPES)}.")
    filename: str | None = Field(None, max_length=255)
    max_bytes: int | None = Field(None, description=f"Upper size limit, at most {MAX_UPLOAD_BYTES} bytes.")
    social_export: SocialRecipe | None = Field(
        None, description="Export the image to these platforms as soon as it lands (a hot folder)."
    )


class UploadForm(BaseModel):
    url: str = Field(description="POST a multipart form here: every field below, then the file as 'file'.")
    fields: dict[str, str]
    expires_in: int


class UploadTicketView(BaseModel):
    upload: UploadView
    form: UploadForm


class UploadStatus(BaseModel):
    upload: UploadView
    asset: AssetView | None = None


@router.post(
    f"{API_PREFIX}/uploads",
    summary="Start an upload",
    description="Answers a presigned POST for one file. When the file lands it is verified (format, size, "
    "pixels, integrity), rotated upright, stripped of metadata (GPS included) and kept as an asset; "
    "follow status_url for the result. Accepts an Idempotency-Key header.",
    tags=["Uploads"],
)
def create_upload(request: UploadRequest) -> UploadTicketView:
    who = caller(router)

    def run() -> dict[str, object]:
        ticket = start_upload(
            ports(),
            who.user_id,
            content_type=request.content_type,
            filename=request.filename,
            max_bytes=request.max_bytes,
            recipe={"social_export": request.social_export.model_dump(mode="json")}
            if request.social_export
            else None,
        )
        view = UploadTicketView(
            upload=UploadView.of(ticket.upload),
            form=UploadForm(
                url=ticket.form.url, fields=ticket.form.fields, expires_in=ticket.form.expires_in
            ),
        )
        return view.model_dump(mode="json")

    key = router.current_event.headers.get(HEADER)
    body = request.model_dump(mode="json")
    return UploadTicketView.model_validate(
        run_idempotent(
            key, user=who.user_id, scope="uploads", body=body, run=run, context=router.lambda_context
        )
    )


@router.get(
    f"{API_PREFIX}/uploads/<upload_id>",
    summary="An upload's status and, once ready, its asset",
    tags=["Uploads"],
)
def get_upload(upload_id: Annotated[str, Path(max_length=64)]) -> UploadStatus:
    p = ports()
    owner = caller(router).user_id
    upload = p.uploads.get(owner, upload_id)
    asset = AssetView.of(p.assets.get(owner, upload.asset_id), p.blobs) if upload.asset_id else None
    return UploadStatus(upload=UploadView.of(upload), asset=asset)

"""POST social/optimize: one image to every platform's format (exact size, subject kept, file limits)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel

from imagestudio import API_PREFIX
from imagestudio.api.context import caller, ports
from imagestudio.operations.social import SocialExport, SocialRequest, optimize
from imagestudio.store.blobs import BlobStore

router = Router()


class Rect(BaseModel):
    x: int
    y: int
    width: int
    height: int


class SocialOutput(BaseModel):
    platform: str
    format: str
    width: int | None
    height: int | None
    bytes: int
    mime: str
    safe_zone: Rect
    crop: Rect | None
    actions: list[str]
    asset_id: str
    url: str
    safe_zone_preview_url: str | None = None


class SocialResponse(BaseModel):
    export_id: str
    outputs: list[SocialOutput]
    bundle_url: str | None = None
    credits_charged: int = 0
    notes: list[str] = []


def _rect(box: Any) -> Rect:
    x, y, w, h = box
    return Rect(x=x, y=y, width=w, height=h)


def _crop_rect(box: Any) -> Rect:
    """(left, top, right, bottom) in source pixels -> x, y, width, height."""
    left, top, right, bottom = box
    return Rect(x=left, y=top, width=right - left, height=bottom - top)


def social_response(result: SocialExport, blobs: BlobStore) -> SocialResponse:
    return SocialResponse(
        export_id=result.export_id,
        outputs=[
            SocialOutput(
                platform=o.platform,
                format=o.format_name,
                width=o.asset.width,
                height=o.asset.height,
                bytes=o.asset.bytes,
                mime=o.asset.mime,
                safe_zone=_rect(o.safe_zone),
                crop=_crop_rect(o.crop) if o.crop else None,
                actions=o.actions,
                asset_id=o.asset.id,
                url=blobs.download_url(o.asset.key),
                safe_zone_preview_url=blobs.download_url(o.overlay_key) if o.overlay_key else None,
            )
            for o in result.outputs
        ],
        bundle_url=blobs.download_url(result.bundle_key) if result.bundle_key else None,
        notes=[*result.notes, "Social exports run on our own compute: no credits are charged."],
    )


@router.post(
    f"{API_PREFIX}/social/optimize",
    summary="One image to every platform's format",
    description="Exact sizes; smart crop keeps the detected subject (inside the safe zone where it fits); "
    "fit letterboxes on a colour or a blur of the image; each output fits the platform's file limit "
    "(quality first, then format) and says what was done. Outputs are library assets whose parent is "
    "the input asset. bundle=true adds one zip of everything.",
    tags=["Social"],
)
def social_optimize(request: SocialRequest) -> SocialResponse:
    p = ports()
    return social_response(optimize(p, caller(router).user_id, request), p.blobs)

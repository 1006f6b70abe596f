"""POST social/optimize: one image to every platform's format (exact size, subject kept, file limits).

Ours answers download URLs; the original Image Studio's shape (api/original_answers.py `answer_shape`)
has every image inline, checked to fit in a Lambda answer before anything is stored."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel, Field

from imagestudio import API_PREFIX
from imagestudio.api.context import caller, ports
from imagestudio.api.original_answers import answer_shape, data_url
from imagestudio.catalog import get_catalog
from imagestudio.catalog.models import SafeZone
from imagestudio.operations.social import CropGuide, SocialExport, SocialRequest, optimize
from imagestudio.ports import Ports
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


class CropSubject(BaseModel):
    """What the crops followed, in the source's pixels: draw it over the photo to see what smart crop
    kept, and give a focal point where it is wrong."""

    followed: str = Field(description="faces, subject, no subject (centred), focal point, centre or fit")
    source_width: int
    source_height: int
    box: Rect | None = Field(None, description="the subject (with faces: the people)")
    core: Rect | None = Field(None, description="the part kept when a format cannot hold the whole subject")
    faces: int = 0
    note: str | None = Field(None, description="the sentence `notes` gives about it, if any")


class SocialResponse(BaseModel):
    export_id: str
    outputs: list[SocialOutput]
    bundle_url: str | None = None
    credits_charged: int = 0
    notes: list[str] = []
    subject: CropSubject | None = None


def _subject(guide: CropGuide | None) -> CropSubject | None:
    if guide is None:
        return None
    return CropSubject(
        followed=guide.followed,
        source_width=guide.source_size[0],
        source_height=guide.source_size[1],
        box=_crop_rect(guide.box) if guide.box else None,
        core=_crop_rect(guide.core) if guide.core else None,
        faces=guide.faces,
        note=guide.note(),
    )


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
        subject=_subject(result.guide),
    )


class OriginalSocialResult(BaseModel):
    platform: str
    format: str
    width: int
    height: int
    ratio: str
    image_base64: str = Field(description="A data URL, used as the card image and the download href.")
    safe_zone: SafeZone = Field(description="Fractions of each side kept clear of platform UI.")
    asset_id: str


class OriginalSocialAnswer(BaseModel):
    """POST social/optimize in the original Image Studio's shape: every image inline."""

    success: bool
    results: list[OriginalSocialResult]
    total_optimized: int
    export_id: str
    notes: list[str] = []


def original_social(result: SocialExport, p: Ports) -> OriginalSocialAnswer:
    catalog = get_catalog()
    results = []
    for o in result.outputs:
        fmt = next(f for f in catalog.platform(o.platform).formats if f.name == o.format_name)
        results.append(
            OriginalSocialResult(
                platform=o.platform,
                format=o.format_name,
                width=o.asset.width or fmt.width,
                height=o.asset.height or fmt.height,
                ratio=fmt.aspect_ratio,
                image_base64=data_url(o.asset.mime, p.blobs.get(o.asset.key)),
                safe_zone=fmt.safe_zone,
                asset_id=o.asset.id,
            )
        )
    return OriginalSocialAnswer(
        success=bool(results),
        results=results,
        total_optimized=len(results),
        export_id=result.export_id,
        notes=result.notes,
    )


@router.post(
    f"{API_PREFIX}/social/optimize",
    summary="One image to every platform's format",
    description="Exact sizes; smart crop keeps the detected subject (inside the safe zone where it fits); "
    "fit letterboxes on a colour or a blur of the image; each output fits the platform's file limit "
    "(quality first, then format) and says what was done. Outputs are library assets whose parent is "
    "the input asset. bundle=true adds one zip of everything. Answer: ours by default (download URLs; "
    "recommended); response_format=original (or Accept: application/vnd.imagestudio.original+json, a "
    "token of a client listed in OriginalClientIds, or a body using image_base64) answers the original "
    "Image Studio's shape, each image inline as a data URL; when those could not fit in Lambda's 6 MB "
    "it is refused with 413 before anything is stored (exports cost no credits).",
    tags=["Social"],
    responses={
        200: {
            "description": "Ours (recommended, the default), or the original's (response_format=original).",
            "content": {"application/json": {"model": SocialResponse | OriginalSocialAnswer}},
        },
        413: {"description": "The inline answer could not fit in 6 MB; `detail` says what to change."},
    },
)
def social_optimize(request: SocialRequest) -> SocialResponse | OriginalSocialAnswer:
    p = ports()
    shape = answer_shape(router.current_event, request, p.settings.original_clients)
    if shape == "original":
        # rendered on our compute (free): the real files are checked to fit before any is stored
        inline = request.model_copy(update={"response_format": "original"})
        return original_social(optimize(p, caller(router).user_id, inline), p)
    return social_response(optimize(p, caller(router).user_id, request), p.blobs)

"""Format Converter: any image we read (JPEG, PNG, WebP, AVIF, HEIC/HEIF, GIF, TIFF, BMP, ICO) to JPEG,
PNG, WebP, AVIF, GIF, TIFF, BMP or ICO, and an answer that says exactly what was done.

POST convert-format converts on our compute (`imaging.convert`) and stores the result as a new asset
whose parent is the input. `details` report the source and target formats, sizes, frames (all kept
when the target can animate, with their durations and loop count), transparency (kept, flattened or
none), the colour space written, the metadata kept and removed, and SSIM/PSNR against the input.

Price: free (the catalog's `compress-convert-price` decision): a job with 0 credits, counted against
no plan limit. Batch rows: `operation=convert` with the request's fields as columns.

Read-only routes (`READS`): convert-format/supported; convert-format/recommendations, GET with the
original's `source_format` (the ranking by use, no sizes: there is no image) and POST with the image
(targets ranked by use with sizes and SSIM from real encodes of it; free, opens no job).
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import AliasChoices, Field

from imagestudio import API_PREFIX
from imagestudio.errors import InvalidInput
from imagestudio.imaging.convert import (
    ALPHA,
    ANIMATE,
    LOSSLESS,
    REASONS,
    USE_FORMATS,
    WRITE_FORMATS,
    ConvertOptions,
    convert,
    normalize_format,
    recommend_formats,
)
from imagestudio.imaging.inline import decode_inline_image
from imagestudio.imaging.sources import MIME, NAMES
from imagestudio.models.requests import RequestModel, ResponseFormat
from imagestudio.operations.core import Outcome, computed_output, run_computed
from imagestudio.operations.inputs import ImageSourceRequest, resolve_input_file
from imagestudio.operations.registry import FREE, InputFacts, OperationSpec, Quote, Route, register
from imagestudio.ports import Ports

SRGB_NAMES = ("srgb", "rgb")


class ConvertRequest(ImageSourceRequest):
    """Body of POST convert-format. Give the image one way: inline, by asset id or by upload id."""

    target_format: str = Field(
        max_length=8, description="jpeg (jpg), png, webp, avif, gif, tiff (tif), bmp or ico."
    )
    quality: int | None = Field(None, ge=1, le=100, description="Lossy targets (JPEG, WebP, AVIF).")
    lossless: bool = Field(False, description="WebP: lossless.")
    progressive: bool = Field(False, description="JPEG: progressive scan.")
    optimize: bool = Field(
        True, description="Accepted for the original client: JPEG tables are always optimized."
    )
    preserve_transparency: bool = Field(
        True, description="Keep the alpha where the target has one; else flattened onto `background`."
    )
    background: str = Field("#ffffff", max_length=32, description="What transparency is flattened onto.")
    keep_animation: bool = Field(True, description="Keep every frame when the target can animate.")
    strip_metadata: bool = Field(True, description="Remove EXIF (with GPS) and XMP.")
    keep_icc: bool = Field(True, description="Keep an RGB ICC profile where the target can carry one.")
    color_space: str | None = Field(
        None, max_length=16, description="Accepted for the original client: only sRGB (8-bit) is written."
    )
    ico_sizes: list[int] | None = Field(None, max_length=10, description="ICO: the icon sizes (1-256 px).")
    response_format: ResponseFormat = "url"


def options_of(request: ConvertRequest) -> ConvertOptions:
    normalize_format(request.target_format)  # a 422 naming the choices, before the image is read
    if request.color_space is not None and request.color_space.strip().lower() not in SRGB_NAMES:
        raise InvalidInput(
            f"color_space {request.color_space!r} cannot be written: every output is 8-bit sRGB (CMYK and"
            " 16-bit inputs are converted to it through their profile). Leave color_space out or send"
            " 'sRGB'.",
            details={"field": "color_space", "value": request.color_space, "valid_choices": ["sRGB"]},
        )
    extra: dict[str, Any] = {"ico_sizes": tuple(request.ico_sizes)} if request.ico_sizes else {}
    return ConvertOptions(
        target_format=request.target_format,
        quality=request.quality,
        lossless=request.lossless,
        progressive=request.progressive,
        background=request.background,
        preserve_transparency=request.preserve_transparency,
        keep_animation=request.keep_animation,
        strip_metadata=request.strip_metadata,
        keep_icc=request.keep_icc,
        **extra,
    )


def price(request: ConvertRequest, facts: InputFacts) -> Quote:
    """Free: our compute (the catalog's compress-convert-price decision)."""
    return FREE


def run(ports: Ports, owner: str, request: ConvertRequest) -> Outcome:
    options = options_of(request)
    source = resolve_input_file(
        ports, owner, image=request.image, asset_id=request.asset_id, upload_id=request.upload_id
    )
    result = convert(source.data, options)  # 422s (caps, bombs, bad values) before any job opens
    output = computed_output(result, inline=request.response_format != "url", what="the converted image")
    details: dict[str, Any] = {
        **result.describe(),
        "original_format": result.source_format,
        "target_format": result.format,
        "original_size_kb": round(result.source_bytes / 1024, 2),
        "converted_size_kb": round(result.bytes / 1024, 2),
    }
    return run_computed(
        ports,
        owner,
        operation="convert",
        source="converted",
        output=output,
        request=request,
        given=source,
        metadata={
            "format": result.format,
            "source_format": result.source_format,
            "frames": result.frames,
            "transparency": result.transparency,
            "color_space": result.color_space,
        },
        notes=list(result.notes),
        details=details,
    )


# --------------------------------------------------------------------------------------- read-only

READS = Router()

_DESCRIPTIONS = {
    "jpeg": "Photos: small, universal; no transparency.",
    "png": "Lossless with transparency; APNG animations.",
    "webp": "Small lossy or lossless files with transparency and animation.",
    "avif": "The smallest files; transparency and animation.",
    "gif": "256 colours, 1-bit transparency, animation that plays everywhere.",
    "tiff": "Lossless with its colour profile: print.",
    "bmp": "Uncompressed bitmaps for old software.",
    "ico": "Windows and favicon icons, several sizes in one file.",
}


@READS.get(f"{API_PREFIX}/convert-format/supported", summary="Formats read and written", tags=["Studios"])
def supported_formats() -> dict[str, Any]:
    return {
        "formats": [
            {
                "id": fmt,
                "name": NAMES[fmt.upper()],
                "description": _DESCRIPTIONS[fmt],
                "mime_type": MIME[fmt.upper()],
                "supports_transparency": fmt in ALPHA,
                "supports_lossy": fmt not in LOSSLESS,
                "supports_animation": fmt in ANIMATE,
            }
            for fmt in WRITE_FORMATS
        ],
        "readable": [NAMES[f] for f in NAMES],
    }


@READS.get(
    f"{API_PREFIX}/convert-format/recommendations",
    summary="Targets for a source format, by use",
    description="Without the image there is nothing to measure: the ranking and reasons only. POST the "
    "image to the same path for sizes and SSIM from real encodes of it.",
    tags=["Studios"],
)
def recommendations_for_format(
    source_format: Annotated[str | None, Query(max_length=8)] = None,
) -> dict[str, Any]:
    source = normalize_format(source_format, writable=False) if source_format else None
    uses = ["web", "transparency", "print", "animation"]
    listed = [
        {"use": use, "format": fmt, "reason": REASONS[(use, fmt)], "rank": i + 1}
        for use in uses
        for i, fmt in enumerate(USE_FORMATS[use])
        if fmt != source
    ]
    return {"source_format": source, "recommendations": listed, "measured": False}


class RecommendRequest(RequestModel):
    image: str = Field(validation_alias=AliasChoices("image", "image_base64"))


@READS.post(
    f"{API_PREFIX}/convert-format/recommendations",
    summary="Targets for this image, by use, with measured sizes",
    description="Each target really encoded (a full-resolution sample above 4 MP); free, opens no job.",
    tags=["Studios"],
)
def recommendations_for_image(request: RecommendRequest) -> dict[str, Any]:
    found = recommend_formats(decode_inline_image(request.image))
    by_use = {use: [o.__dict__ for o in options] for use, options in found.by_use.items()}
    return {
        **{k: v for k, v in found.__dict__.items() if k != "by_use"},
        "by_use": by_use,
        "recommendations": [
            {"use": use, **o} for use, options in by_use.items() for o in options if o["rank"] == 1
        ],
        "measured": True,
    }


SPEC = register(
    OperationSpec(
        name="convert",
        request=ConvertRequest,
        run=run,
        price=price,
        usage=None,
        route=Route(
            path="convert-format",
            summary="Convert an image to another format",
            description="Reads JPEG, PNG, WebP, AVIF, HEIC, GIF, TIFF, BMP, ICO; writes JPEG, PNG, WebP, "
            "AVIF, GIF, TIFF, BMP, ICO, keeping animations and transparency where the target can. Free.",
        ),
        reads=READS,
    )
)

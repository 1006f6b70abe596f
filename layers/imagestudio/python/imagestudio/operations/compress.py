"""Compression Studio: a smaller file of the same picture, with what it cost in quality said.

POST compress takes the image (inline, an asset or an upload), a preset from the catalog and/or the
explicit options (format, quality, target size in KB, progressive, palette, metadata), compresses it
on our compute (`imaging.compress`) and stores the result as a new asset whose parent is the input.
The answer's `details` report what was done: sizes, ratio, the quality used, SSIM and PSNR against
the input, metadata kept and removed, transparency, and any downscale a target size needed. A
target that cannot be reached is refused (422) with the smallest size reachable, before any job opens.

Price: free (the catalog's `compress-convert-price` decision): a job with 0 credits, counted against
no plan limit. Batch rows: `operation=compress` with the request's fields as columns (`image`,
`asset_id` or `upload_id`; `preset`, `format`, `quality`, `target_size_kb`, ...).

Read-only routes beside the POST (`READS`): compress/formats, compress/presets, and compress/estimate
(a real encode of a reduced sample of the image; never charges, opens no job).
"""

from __future__ import annotations

import io
from dataclasses import fields, replace
from typing import Any, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from PIL import Image
from pydantic import AliasChoices, Field

from imagestudio import API_PREFIX
from imagestudio.catalog import get_catalog
from imagestudio.imaging.compress import (
    DEFAULT_QUALITY,
    CompressionResult,
    CompressOptions,
    compress,
    estimate_compression,
    preset_options,
)
from imagestudio.imaging.inline import decode_inline_image
from imagestudio.models.requests import RequestModel, ResponseFormat
from imagestudio.operations.core import Outcome, computed_output, run_computed
from imagestudio.operations.inputs import ImageSourceRequest, resolve_input_file
from imagestudio.operations.registry import FREE, InputFacts, OperationSpec, Quote, Route, register
from imagestudio.ports import Ports

MAX_TARGET_KB = 50_000


class CompressRequest(ImageSourceRequest):
    """Body of POST compress. Give the image one way: inline, by asset id or by upload id. A preset sets
    the options; any option given explicitly wins over the preset's."""

    preset: str | None = Field(
        None, max_length=20, description="web, email, social, print, thumbnail, high_quality or maximum."
    )
    format: Literal["jpeg", "jpg", "webp", "avif", "png"] | None = Field(
        None, description="The output format; default: the preset's, else the input's (JPEG/PNG otherwise)."
    )
    quality: int | None = Field(
        None, ge=1, le=100, description="1-100 (lossy formats); with a target size, the ceiling."
    )
    target_size_kb: float | None = Field(
        None,
        gt=0,
        le=MAX_TARGET_KB,
        validation_alias=AliasChoices("target_size_kb", "target_kb"),
        description="The largest file wanted, in KB (1024 bytes): reached by a bounded search over quality.",
    )
    progressive: bool | None = Field(None, description="JPEG: progressive scan.")
    optimize: bool = Field(
        True, description="Accepted for the original client: JPEG Huffman tables are always optimized."
    )
    lossless: bool | None = Field(None, description="WebP: lossless.")
    palette: bool | None = Field(
        None, description="PNG: quantize to a palette of `colors` (real size reduction)."
    )
    colors: int | None = Field(None, ge=2, le=256, description="PNG palette size (default 256).")
    strip_metadata: bool | None = Field(None, description="Remove EXIF (with GPS) and XMP; default true.")
    keep_icc: bool | None = Field(None, description="Keep the ICC colour profile; default true.")
    allow_downscale: bool = Field(
        True,
        description="With a target size: downscale (stated) when quality alone cannot reach it.",
    )
    max_side: int | None = Field(None, ge=16, le=16384, description="Fit the long side within this many px.")
    background: str | None = Field(
        None, max_length=32, description="What transparency is flattened onto for JPEG."
    )
    response_format: ResponseFormat = "url"


#: request field -> CompressOptions field, where the names differ
_OPTION_NAMES = {"target_size_kb": "target_kb"}
_OPTIONS = {f.name for f in fields(CompressOptions)}


def options_of(request: CompressRequest) -> CompressOptions:
    """The preset's options (if any) with every option the request sets explicitly on top."""
    explicit: dict[str, Any] = {}
    for name in request.model_fields_set:
        option = _OPTION_NAMES.get(name, name)
        value = getattr(request, name)
        if option in _OPTIONS and value is not None:
            explicit[option] = "jpeg" if value == "jpg" else value
    if request.preset:
        return preset_options(get_catalog().compression_preset(request.preset), **explicit)
    return replace(CompressOptions(), **explicit)


def price(request: CompressRequest, facts: InputFacts) -> Quote:
    """Free: our compute (the catalog's compress-convert-price decision)."""
    return FREE


def _has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)


def report(result: CompressionResult, data: bytes) -> dict[str, Any]:
    """What was done, as the user sees it: sizes, ratio, quality, fidelity, metadata, transparency."""
    with Image.open(io.BytesIO(data)) as source:
        had_alpha = _has_alpha(source)
        frames = int(getattr(source, "n_frames", 1))
    with Image.open(io.BytesIO(result.data)) as out:
        has_alpha = _has_alpha(out)
    described = result.describe()
    described["transparency"] = "kept" if had_alpha and has_alpha else ("flattened" if had_alpha else "none")
    described["frames"] = 1
    described["source_frames"] = frames
    described["original_size_kb"] = round(result.original_bytes / 1024, 2)
    described["compressed_size_kb"] = round(result.bytes / 1024, 2)
    return described


def run(ports: Ports, owner: str, request: CompressRequest) -> Outcome:
    options = options_of(request)  # a bad preset is refused before the image is read
    source = resolve_input_file(
        ports, owner, image=request.image, asset_id=request.asset_id, upload_id=request.upload_id
    )
    result = compress(source.data, options)  # 422s (caps, bombs, an unreachable target) before any job
    output = computed_output(result, inline=request.response_format != "url", what="the compressed image")
    details = report(result, source.data)
    details["preset"] = request.preset
    notes = list(result.notes)
    if details["source_frames"] > 1:
        notes.append(
            f"the input has {details['source_frames']} frames: compression keeps the first"
            " (convert-format keeps them all)"
        )
    return run_computed(
        ports,
        owner,
        operation="compress",
        source="compressed",
        output=output,
        request=request,
        given=source,
        metadata={
            "format": result.format,
            "quality_used": result.quality_used,
            "ssim": result.fidelity.ssim,
            "psnr": result.fidelity.psnr,
            "original_bytes": result.original_bytes,
            "preset": request.preset,
        },
        notes=notes,
        details=details,
    )


# --------------------------------------------------------------------------------------- read-only


READS = Router()

_FORMAT_INFO: dict[str, dict[str, Any]] = {
    "jpeg": {
        "name": "JPEG",
        "extension": "jpg",
        "description": "Photos everywhere: optimized Huffman tables, progressive on request.",
        "supports_transparency": False,
        "use_cases": ["photos", "email", "print"],
    },
    "webp": {
        "name": "WebP",
        "extension": "webp",
        "description": "Smaller than JPEG at the same quality; lossy or lossless, with transparency.",
        "supports_transparency": True,
        "use_cases": ["web", "thumbnails"],
    },
    "avif": {
        "name": "AVIF",
        "extension": "avif",
        "description": "The smallest files at a given quality; every current browser shows it.",
        "supports_transparency": True,
        "use_cases": ["web", "photos"],
    },
    "png": {
        "name": "PNG",
        "extension": "png",
        "description": "Lossless; palette quantization (up to 256 colours) for real size reduction.",
        "supports_transparency": True,
        "use_cases": ["graphics", "screenshots", "transparency"],
    },
}


@READS.get(f"{API_PREFIX}/compress/formats", summary="Compression formats", tags=["Studios"])
def compression_formats() -> dict[str, Any]:
    return {
        "formats": [
            {
                "id": fmt,
                **info,
                "quality_range": [1, 100] if fmt != "png" else [],
                "recommended_quality": DEFAULT_QUALITY.get(fmt, 100),
                "lossless_available": fmt in ("webp", "png"),
            }
            for fmt, info in _FORMAT_INFO.items()
        ]
    }


@READS.get(
    f"{API_PREFIX}/compress/presets", summary="Compression presets (from the catalog)", tags=["Studios"]
)
def compression_presets() -> dict[str, Any]:
    presets = []
    for p in get_catalog().compression_presets():
        presets.append(
            {
                "id": p.id,
                "name": p.name,
                "description": p.description,
                "format": p.format,
                "quality": p.quality if p.quality is not None else DEFAULT_QUALITY.get(p.format, 100),
                "target_size_kb": round(p.target_kb) if p.target_kb is not None else None,
                "strip_metadata": p.strip_metadata,
                "progressive": p.progressive,
                "lossless": p.lossless or p.format == "png",
                "max_side": p.max_side,
            }
        )
    return {"presets": presets}


class EstimateRequest(RequestModel):
    """Body of POST compress/estimate: the image inline and the options POST compress would take."""

    image: str = Field(validation_alias=AliasChoices("image", "image_base64"))
    preset: str | None = Field(None, max_length=20)
    format: Literal["jpeg", "jpg", "webp", "avif", "png"] | None = None
    quality: int | None = Field(None, ge=1, le=100)
    target_size_kb: float | None = Field(
        None, gt=0, le=MAX_TARGET_KB, validation_alias=AliasChoices("target_size_kb", "target_kb")
    )
    progressive: bool | None = None
    optimize: bool = True
    lossless: bool | None = None
    palette: bool | None = None
    colors: int | None = Field(None, ge=2, le=256)
    strip_metadata: bool | None = None
    keep_icc: bool | None = None
    max_side: int | None = Field(None, ge=16, le=16384)


@READS.post(
    f"{API_PREFIX}/compress/estimate",
    summary="Predict a compression's size",
    description="Really encodes a reduced full-resolution sample of the image; fast, free, opens no job.",
    tags=["Studios"],
)
def compression_estimate(request: EstimateRequest) -> dict[str, Any]:
    as_compress = CompressRequest.model_validate(
        {k: getattr(request, k) for k in request.model_fields_set if k != "image"}
    )
    found = estimate_compression(decode_inline_image(request.image), options_of(as_compress))
    return {
        **found.__dict__,
        "original_size_kb": round(found.original_bytes / 1024, 2),
        "estimated_size_kb": round(found.estimated_bytes / 1024, 2),
        "estimated_reduction_percent": round(100 * (1 - found.estimated_ratio), 1),
        "format": found.format.lower(),
        "charged": 0,
    }


SPEC = register(
    OperationSpec(
        name="compress",
        request=CompressRequest,
        run=run,
        price=price,
        usage=None,
        route=Route(
            path="compress",
            summary="Compress an image",
            description="JPEG, WebP, AVIF or PNG; a quality, a preset or a target size in KB; the answer "
            "reports the sizes, the quality used, SSIM/PSNR against the input and the metadata kept. Free.",
        ),
        reads=READS,
    )
)

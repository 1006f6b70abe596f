"""The original Image Studio front end's answers for the studio operations, and which shape a request gets.

Our answer (`OperationResponse`: the job, what it cost, each output with a download URL) is the
default and what the OpenAPI document recommends. The original client (the ALwrity hook,
docs/frontend-compat.md) cannot follow URLs or poll jobs: it reads `{success: true, results:
[{image_base64, ...}]}` from create and `{success, image_base64 (a data URL), width, height,
metadata}` from the other studios. A request gets that shape when it asks for it or is the
original client's (`answer_shape`); the images are then inline, so the operation checks before any
credit is reserved that the answer fits in a Lambda answer (`operations/inline_answer.py`: 413).

A long job (relight, creative upscale) cannot be answered inline within a request: the original
shape is then 202 with `success: false`, a `detail` saying where the result will be, and our job view.
"""

from __future__ import annotations

import base64
from typing import Any, cast

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from pydantic import BaseModel, Field

from imagestudio.api.identity import caller_from_event
from imagestudio.api.operation_views import OperationResponse
from imagestudio.models.requests import ResponseFormat
from imagestudio.ports import Ports

#: asks for the original shape in an Accept header
ORIGINAL_MEDIA_TYPE = "application/vnd.imagestudio.original+json"
#: field names only the original client uses (ours are image, mask, left, ...): a body that uses one
#: is the original client's, and gets its shape unless it says otherwise
ORIGINAL_FIELD_NAMES = frozenset(
    {
        "image_base64",
        "mask_base64",
        "control_image_base64",
        "style_image_base64",
        "background_image_base64",
        "lighting_image_base64",
        "options",
        "expand_left",
        "expand_right",
        "expand_up",
        "expand_down",
        "base_image_base64",
        "face_image_base64",
        "target_face_index",
    }
)


def answer_shape(event: Any, request: BaseModel, original_clients: tuple[str, ...]) -> ResponseFormat:
    """The answer a request gets, first rule that applies:
    1. `response_format` in the body (url | b64_json | original);
    2. an Accept header naming `application/vnd.imagestudio.original+json`;
    3. a token issued to a client the deployment lists as the original front end (OriginalClientIds);
    4. a body that uses the original client's own field names (`image_base64`, `options`, ...);
    5. otherwise ours, `url`."""
    if "response_format" in request.model_fields_set:
        return cast(ResponseFormat, request.response_format)  # type: ignore[attr-defined]
    headers = event.headers or {}
    if ORIGINAL_MEDIA_TYPE in (headers.get("accept") or headers.get("Accept") or "").lower():
        return "original"
    v2 = cast(APIGatewayProxyEventV2, event)
    if original_clients and caller_from_event(v2).client_id in original_clients:
        return "original"
    try:
        body = v2.json_body
    except ValueError:
        body = None
    if isinstance(body, dict) and ORIGINAL_FIELD_NAMES.intersection(body):
        return "original"
    return "url"


class OriginalImage(BaseModel):
    """One image of create's original answer."""

    image_base64: str = Field(description="Raw base64 (the UI prefixes data:image/png;base64,).")
    width: int
    height: int
    provider: str
    model: str
    variation: int
    seed: int | None = None
    metadata: dict[str, Any] = {}


class OriginalCreateAnswer(BaseModel):
    """POST create in the original's shape."""

    success: bool
    request: dict[str, Any]
    results: list[OriginalImage]
    total_generated: int
    total_failed: int
    job_id: str
    credits_charged: int


class OriginalStudioAnswer(BaseModel):
    """POST edit/process, upscale, control/process in the original's shape (one result, inline)."""

    success: bool
    image_base64: str = Field(description="A data URL (data:image/png;base64,...), used as an <img> src.")
    width: int
    height: int
    provider: str | None
    model: str | None
    operation: str | None = Field(None, description="edit and control: the edit or control operation.")
    mode: str | None = Field(None, description="upscale: the mode that ran.")
    metadata: dict[str, Any]
    job_id: str
    credits_charged: int


class OriginalPending(OperationResponse):
    """A long job asked for in the original shape: our job view, `success: false` and why."""

    success: bool = False
    detail: str


def data_url(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def _files(answer: OperationResponse, ports: Ports, owner: str) -> list[tuple[Any, Any, bytes]]:
    """(output view, asset, bytes) of every output: the stored file, as it was made."""
    found = []
    for output in answer.outputs:
        asset = ports.assets.get(owner, output.asset_id)
        found.append((output, asset, ports.blobs.get(asset.key)))
    return found


def original_create(answer: OperationResponse, ports: Ports, owner: str) -> OriginalCreateAnswer:
    seeds = answer.details.get("seeds") or []
    results = [
        OriginalImage(
            image_base64=base64.b64encode(data).decode(),
            width=asset.width,
            height=asset.height,
            provider=asset.provider or answer.provider or "",
            model=asset.model or answer.model or "",
            variation=output.index,
            seed=seeds[output.index] if output.index < len(seeds) else None,
            metadata={"asset_id": asset.id, "mime": asset.mime, "bytes": asset.bytes},
        )
        for output, asset, data in _files(answer, ports, owner)
    ]
    details = answer.details
    return OriginalCreateAnswer(
        success=bool(results),
        request={
            "prompt": details.get("applied_prompt"),
            "provider": answer.provider,
            "model": answer.model,
            "template_id": details.get("template_id"),
            "width": details.get("width"),
            "height": details.get("height"),
            "style_preset": details.get("style_preset"),
            "num_variations": len(results) + len(answer.failures),
        },
        results=results,
        total_generated=len(results),
        total_failed=len(answer.failures),
        job_id=answer.job_id,
        credits_charged=answer.credits_charged,
    )


def original_single(
    answer: OperationResponse, ports: Ports, owner: str, **fields: Any
) -> OriginalStudioAnswer:
    """edit/process, upscale, control/process: the one output as a data URL; `fields` are the
    original's per-studio fields (operation, mode)."""
    _, asset, data = _files(answer, ports, owner)[0]
    return OriginalStudioAnswer(
        success=True,
        image_base64=data_url(asset.mime, data),
        width=asset.width,
        height=asset.height,
        provider=asset.provider or answer.provider,
        model=asset.model or answer.model,
        metadata={
            **answer.details,
            "asset_id": asset.id,
            "mime": asset.mime,
            "style_preset": asset.metadata.get("style"),
            "notes": answer.notes,
        },
        job_id=answer.job_id,
        credits_charged=answer.credits_charged,
        **fields,
    )


def original_pending(answer: OperationResponse) -> OriginalPending:
    return OriginalPending(
        **answer.model_dump(),
        detail=(
            f"This {answer.operation} runs as a long job at the provider (about a minute), longer than one "
            f"request may wait, so its image cannot be in this answer. Job {answer.job_id} has its credits "
            "reserved; when it finishes the image is in your library (GET "
            f"{answer.links.status_url} has its download URL). Ask with response_format=url to follow it."
        ),
    )


class OriginalFileAnswer(OriginalStudioAnswer):
    """POST compress and convert-format in the original's shape: the one result inline, with the
    original's own figures beside it (what its CompressionTab / FormatConverterTab read)."""

    original_size_kb: float
    format: str | None = Field(None, description="compress: the format written (jpeg, webp, avif, png).")
    compressed_size_kb: float | None = None
    compression_ratio: float | None = Field(None, description="compress: percent of the bytes saved.")
    quality_used: int | None = None
    metadata_stripped: bool | None = None
    original_format: str | None = Field(None, description="convert-format: the input's format.")
    target_format: str | None = None
    converted_size_kb: float | None = None
    transparency_preserved: bool | None = None
    metadata_preserved: bool | None = None
    color_space: str | None = None


def original_compress(answer: OperationResponse, ports: Ports, owner: str) -> OriginalStudioAnswer:
    d = answer.details
    single = original_single(answer, ports, owner)
    return OriginalFileAnswer(
        **single.model_dump(),
        original_size_kb=d["original_size_kb"],
        compressed_size_kb=d["compressed_size_kb"],
        compression_ratio=round(100 * (1 - d["ratio"]), 1),  # the original's: percent saved
        format=str(d["format"]).lower(),
        quality_used=d["quality_used"] if d["quality_used"] is not None else 100,
        metadata_stripped=bool(d["metadata_removed"]) or not d["metadata_kept"],
    )


def original_convert(answer: OperationResponse, ports: Ports, owner: str) -> OriginalStudioAnswer:
    d = answer.details
    single = original_single(answer, ports, owner)
    return OriginalFileAnswer(
        **single.model_dump(),
        original_format=str(d["original_format"]).lower(),
        target_format=str(d["target_format"]).lower(),
        original_size_kb=d["original_size_kb"],
        converted_size_kb=d["converted_size_kb"],
        transparency_preserved=d["transparency"] == "kept",
        metadata_preserved=bool(d["metadata_kept"]),
        color_space=d["color_space"],
    )


#: studios whose original answer has fields of its own beyond `original_single`'s
ORIGINAL_BUILDERS = {"compress": original_compress, "convert": original_convert}

"""What each batch row will cost, and whether its inputs exist, before anything runs or is charged.

Prices come from the same catalog estimate the operations charge by; the input's size and an audio's
duration are read from the library records, so a preview downloads nothing. The run charges what the
operation really costs (general_edit without a model is quoted at the catalog default and run with the
recommended model).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from imagestudio.batches.rows import BatchRow, RowError
from imagestudio.catalog import get_catalog
from imagestudio.catalog.pricing import estimate, resolve_upscale_mode
from imagestudio.errors import DomainError, NotFound
from imagestudio.models.records import Asset
from imagestudio.operations.create import CreateRequest, candidates_for
from imagestudio.ports import Ports

# the plan counter and count each operation adds (credits/plans.py counts jobs by these)
USAGE_OPERATION = {
    "create": "generate",
    "edit": "edit",
    "upscale": "upscale",
    "control": "control",
    "image-to-video": "image-to-video",
    "talking-avatar": "talking-avatar",
    "image-to-3d": "image-to-3d",
}


@dataclass(frozen=True)
class RowQuote:
    row: int
    operation: str
    credits: int
    usd: Decimal
    count: int  # what the plan counts (variations for create, 1 otherwise)


def _input_asset(ports: Ports, owner: str, request: BaseModel, prefix: str = "") -> Asset | None:
    asset_id = getattr(request, f"{prefix}asset_id", None)
    upload_id = getattr(request, f"{prefix}upload_id", None)
    if asset_id:
        return ports.assets.get(owner, asset_id)
    if upload_id:
        upload = ports.uploads.get(owner, upload_id)
        if upload.status != "ready" or not upload.asset_id:
            raise NotFound(f"Upload {upload_id} is {upload.status}, not a ready file.")
        return ports.assets.get(owner, upload.asset_id)
    return None


def check_references(ports: Ports, owner: str, row: BatchRow) -> list[RowError]:
    """Every *_asset_id / *_upload_id of the row names a file of this user."""
    errors = []
    for name, value in row.request.model_dump().items():
        if not value or not (name.endswith("asset_id") or name.endswith("upload_id")):
            continue
        try:
            if name.endswith("upload_id"):
                _input_asset(ports, owner, _Only(upload_id=value))
            else:
                ports.assets.get(owner, value)
        except NotFound as exc:
            errors.append(RowError(row.row, name, f"{exc.message} Use an id from your library or uploads."))
    return errors


class _Only(BaseModel):
    asset_id: str | None = None
    upload_id: str | None = None


def _estimate(ports: Ports, owner: str, row: BatchRow) -> tuple[Any, int]:
    r: Any = row.request
    op = row.operation
    if op == "create":
        assert isinstance(r, CreateRequest)
        template = get_catalog().template(r.template_id, status=422) if r.template_id else None
        candidates, _ = candidates_for(r, template.quality if template else None)
        body = {"operation": "generate", "model": candidates[0].model, "num_variations": r.num_variations}
        return estimate(body), r.num_variations
    if op == "control":
        return estimate({"operation": "control", "control_operation": r.operation}), 1
    if op == "image-to-video":
        return estimate(
            {"operation": op, "model": r.model, "resolution": r.resolution, "duration": r.duration}
        ), 1
    if op == "image-to-3d":
        return estimate({"operation": op, "model": r.model}), 1
    if op == "talking-avatar":
        audio = _input_asset(ports, owner, _Only(asset_id=r.audio_asset_id, upload_id=r.audio_upload_id))
        seconds = audio.duration if audio and audio.duration else 0
        body = {"operation": op, "model": r.model, "resolution": r.resolution, "duration_seconds": seconds}
        return estimate(body), 1
    image = _input_asset(ports, owner, r)
    width, height = (image.width, image.height) if image else (None, None)
    if op == "edit":
        body = {"operation": "edit", "edit_operation": r.operation, "model": r.model}
        return estimate({**body, "width": width, "height": height}), 1
    if op == "upscale":
        mode, _target, _notes = resolve_upscale_mode(r.mode, r.preset, r.target_long_side, width, height)
        return estimate({"operation": "upscale", "mode": mode, "width": width, "height": height}), 1
    raise AssertionError(op)


def quote_row(ports: Ports, owner: str, row: BatchRow) -> RowQuote | list[RowError]:
    errors = check_references(ports, owner, row)
    if errors:
        return errors
    if row.operation == "social":  # our own compute: free
        return RowQuote(row.row, row.operation, 0, Decimal("0"), 1)
    try:
        found, count = _estimate(ports, owner, row)
    except DomainError as exc:
        field = exc.details.get("field") if isinstance(exc.details, dict) else None
        return [RowError(row.row, str(field) if field else None, exc.message)]
    return RowQuote(row.row, row.operation, int(found.credits), Decimal(str(found.usd)), count)

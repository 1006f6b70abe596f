"""What each batch row will cost, and whether its inputs exist, before anything runs or is charged.

Prices come from the same catalog estimate the operations charge by; the input's size and an audio's
duration are read from the library records, so a preview downloads nothing. The run charges what the
operation really costs (general_edit without a model is quoted at the catalog default and run with the
recommended model).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pydantic import BaseModel

from imagestudio.batches.rows import BatchRow, RowError
from imagestudio.errors import DomainError, NotFound
from imagestudio.models.records import Asset
from imagestudio.operations import registry
from imagestudio.operations.inputs import library_asset
from imagestudio.operations.registry import InputFacts
from imagestudio.ports import Ports


@dataclass(frozen=True)
class RowQuote:
    row: int
    operation: str
    credits: int
    usd: Decimal
    count: int  # what the plan counts (variations for create, 1 otherwise)


def check_references(ports: Ports, owner: str, row: BatchRow) -> list[RowError]:
    """Every *_asset_id / *_upload_id of the row names a file of this user."""
    errors = []
    for name, value in row.request.model_dump().items():
        if not value or not (name.endswith("asset_id") or name.endswith("upload_id")):
            continue
        try:
            if name.endswith("upload_id"):
                library_asset(ports, owner, asset_id=None, upload_id=value, field=name)
            else:
                ports.assets.get(owner, value)
        except NotFound as exc:
            errors.append(RowError(row.row, name, f"{exc.message} Use an id from your library or uploads."))
        except DomainError as exc:  # an upload that is not ready
            errors.append(RowError(row.row, name, exc.message))
    return errors


def facts_of(ports: Ports, owner: str, request: BaseModel) -> InputFacts:
    """What the price depends on, from the library records: the image's size, the audio's length."""

    def find(prefix: str) -> Asset | None:
        return library_asset(
            ports,
            owner,
            asset_id=getattr(request, f"{prefix}asset_id", None),
            upload_id=getattr(request, f"{prefix}upload_id", None),
        )

    image, audio = find(""), find("audio_")
    return InputFacts(
        width=image.width if image else None,
        height=image.height if image else None,
        audio_seconds=(audio.duration if audio else None) or 0,
    )


def quote_row(ports: Ports, owner: str, row: BatchRow) -> RowQuote | list[RowError]:
    errors = check_references(ports, owner, row)
    if errors:
        return errors
    try:
        found = registry.get(row.operation).price(row.request, facts_of(ports, owner, row.request))
    except DomainError as exc:
        field = exc.details.get("field") if isinstance(exc.details, dict) else None
        return [RowError(row.row, str(field) if field else None, exc.message)]
    return RowQuote(row.row, row.operation, found.credits, found.usd, found.count)

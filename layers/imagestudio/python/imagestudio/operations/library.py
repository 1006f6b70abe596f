"""Keeping images in the library, and an asset's versions (what it was made from, what was made from it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from imagestudio.errors import InvalidInput
from imagestudio.ids import new_id
from imagestudio.imaging.inline import decode_inline_image
from imagestudio.imaging.verify import make_thumbnail, verify_image
from imagestudio.models.records import Asset
from imagestudio.ports import Ports
from imagestudio.store.blobs import asset_key

MAX_LINEAGE_DEPTH = 20


class SaveRequest(BaseModel):
    image: str | None = Field(None, description="An inline image (base64 or data URL) to keep.")
    job_id: str | None = Field(None, description="Keep this job's outputs.")
    title: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=2000)
    tags: list[str] = Field(default_factory=list, max_length=50)
    prompt: str | None = Field(None, max_length=4000)
    provider: str | None = Field(None, max_length=40)
    model: str | None = Field(None, max_length=80)
    cost_credits: int = Field(0, ge=0)
    source: Literal["generated", "edited", "upscaled", "controlled", "social", "upload", "external"] = (
        "external"
    )

    @model_validator(mode="after")
    def _one_source(self) -> SaveRequest:
        if bool(self.image) == bool(self.job_id):
            raise ValueError("give exactly one of 'image' (inline) or 'job_id'")
        return self


def save_to_library(ports: Ports, owner: str, request: SaveRequest) -> list[Asset]:
    tags = sorted({t.strip().lower() for t in request.tags if t.strip()})
    if request.job_id:
        job = ports.jobs.get(owner, request.job_id)
        if not job.outputs:
            raise InvalidInput(f"Job {job.id} has no outputs to keep (it is {job.status}).")
        kept = []
        for asset_id in job.outputs:
            asset = ports.assets.get(owner, asset_id)
            kept.append(
                ports.assets.update(
                    asset.model_copy(
                        update={
                            "title": request.title or asset.title,
                            "description": request.description or asset.description,
                            "tags": sorted(set(asset.tags) | set(tags)),
                            "metadata": {**asset.metadata, "saved": True},
                        }
                    )
                )
            )
        return kept
    assert request.image is not None
    verified = verify_image(decode_inline_image(request.image))
    asset_id = new_id()
    key = asset_key(owner, asset_id, f"original.{verified.extension}")
    ports.blobs.put(key, verified.data, verified.mime)
    thumb = make_thumbnail(verified)
    thumb_key = asset_key(owner, asset_id, "thumb.webp")
    ports.blobs.put(thumb_key, thumb.data, thumb.mime)
    asset = Asset(
        id=asset_id,
        owner=owner,
        key=key,
        thumbnail_key=thumb_key,
        mime=verified.mime,
        bytes=verified.bytes,
        width=verified.width,
        height=verified.height,
        title=request.title,
        description=request.description,
        prompt=request.prompt,
        provider=request.provider,
        model=request.model,
        cost_credits=request.cost_credits,
        source=request.source,
        operation="save-to-library",
        tags=tags,
        metadata={"saved": True, "removed_metadata": verified.removed_metadata},
    )
    return [ports.assets.create(asset)]


@dataclass(frozen=True)
class Lineage:
    asset: Asset
    ancestors: list[Asset]  # parent first, then its parent, ...
    descendants: list[tuple[int, Asset]]  # (depth, asset), breadth first


def versions(ports: Ports, owner: str, asset_id: str) -> Lineage:
    asset = ports.assets.get(owner, asset_id)
    ancestors: list[Asset] = []
    current = asset
    while current.parent_id and len(ancestors) < MAX_LINEAGE_DEPTH:
        current = ports.assets.get(owner, current.parent_id)
        ancestors.append(current)
    descendants: list[tuple[int, Asset]] = []
    frontier = [asset]
    for depth in range(1, MAX_LINEAGE_DEPTH + 1):
        next_frontier = [child for parent in frontier for child in ports.assets.children(owner, parent.id)]
        descendants.extend((depth, child) for child in next_frontier)
        if not next_frontier:
            break
        frontier = next_frontier
    return Lineage(asset=asset, ancestors=ancestors, descendants=descendants)

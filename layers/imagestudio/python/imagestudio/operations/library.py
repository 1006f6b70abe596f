"""Keeping images in the library, and an asset's versions (what it was made from, what was made from it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field, model_validator

from imagestudio.errors import Conflict, InvalidInput
from imagestudio.ids import new_id
from imagestudio.imaging.inline import decode_inline_image
from imagestudio.imaging.verify import verify_image
from imagestudio.models.records import Asset, utcnow
from imagestudio.models.requests import RequestModel
from imagestudio.models.text import PromptText
from imagestudio.operations.asset_files import store_asset_files
from imagestudio.operations.shares import revoke_targets
from imagestudio.operations.tagging import tagged
from imagestudio.ports import Ports
from imagestudio.store.blobs import asset_key

MAX_LINEAGE_DEPTH = 20


class SaveRequest(RequestModel):
    image: str | None = Field(None, description="An inline image (base64 or data URL) to keep.")
    job_id: str | None = Field(None, description="Keep this job's outputs.")
    title: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=2000)
    tags: list[str] = Field(default_factory=list, max_length=50)
    prompt: PromptText | None = Field(None, max_length=4000)
    provider: str | None = Field(None, max_length=40)
    model: str | None = Field(None, max_length=80)
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
    files = store_asset_files(
        ports,
        owner,
        asset_id,
        data=verified.data,
        mime=verified.mime,
        extension=verified.extension,
        pixels=verified,
    )
    asset = Asset(
        id=asset_id,
        owner=owner,
        key=files.key,
        thumbnail_key=files.thumbnail_key,
        mime=verified.mime,
        bytes=verified.bytes,
        width=verified.width,
        height=verified.height,
        title=request.title,
        description=request.description,
        prompt=request.prompt,
        provider=request.provider,
        model=request.model,
        cost_credits=0,  # nothing was charged for an image made elsewhere; a job's assets carry its cost
        source=request.source,
        operation="save-to-library",
        tags=tags,
        metadata={"saved": True, "removed_metadata": verified.removed_metadata},
    )
    return [ports.assets.create(tagged(asset, files.thumbnail.image))]


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


@dataclass(frozen=True)
class Deletion:
    asset_id: str
    versions_detached: list[str]
    shares_revoked: int
    covers_cleared: list[str]
    left_collection: str | None
    objects_deleted: int


def delete_asset(ports: Ports, owner: str, asset_id: str, *, force: bool = False) -> Deletion:
    """Delete an asset's files and record. Versions made from it, live share links and collections
    using it as their cover depend on it: without `force` that is a 409 naming them; with it the
    versions stay in the library (detached, remembering `deleted_parent_id`), the links are revoked
    and the covers cleared."""
    asset = ports.assets.get(owner, asset_id)
    now = utcnow()
    children = ports.assets.children(owner, asset_id, limit=1000)
    live = [s for s in ports.shares.list(owner, "asset", asset_id) if s.live(now)]
    covers = [c.id for c in ports.collections.list(owner) if c.cover_asset_id == asset_id]
    if (children or live or covers) and not force:
        reasons = []
        if children:
            reasons.append(f"{len(children)} version(s) were made from it")
        if live:
            reasons.append(f"{len(live)} live share link(s) show it")
        if covers:
            reasons.append(f"it is the cover of {len(covers)} collection(s)")
        raise Conflict(
            f"Asset {asset_id} is in use: {'; '.join(reasons)}. Delete with force=true to keep the "
            "versions (detached from it), revoke the links and clear the covers.",
            details={
                "versions": [c.id for c in children],
                "live_shares": len(live),
                "cover_of": covers,
            },
        )
    for child in children:
        ports.assets.update(
            child.model_copy(
                update={"parent_id": None, "metadata": {**child.metadata, "deleted_parent_id": asset_id}}
            )
        )
    revoked = revoke_targets(ports, owner, "asset", asset_id)
    for collection_id in covers:
        ports.collections.clear_cover(owner, collection_id, asset_id)
    if asset.collection_id:
        ports.collections.move(asset, None)
    ports.assets.delete(owner, asset_id)
    folder = asset_key(owner, asset_id, "")
    objects = ports.blobs.delete_prefix(folder)
    elsewhere = [k for k in (asset.key, asset.thumbnail_key) if k and not k.startswith(folder)]
    ports.blobs.delete(*elsewhere)
    objects += len(elsewhere)
    return Deletion(
        asset_id=asset_id,
        versions_detached=[c.id for c in children],
        shares_revoked=revoked,
        covers_cleared=covers,
        left_collection=asset.collection_id,
        objects_deleted=objects,
    )

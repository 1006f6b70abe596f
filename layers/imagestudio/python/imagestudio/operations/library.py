"""Keeping images in the library, and an asset's versions (what it was made from, what was made from it)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from typing import Literal

from pydantic import AliasChoices, Field, model_validator

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
Source = Literal["generated", "edited", "upscaled", "controlled", "social", "upload", "external"]
EXTENSIONS = {"png": "png", "jpeg": "jpg", "jpg": "jpg", "webp": "webp"}


#: the original client's `operation` names -> our asset source
ORIGINAL_OPERATIONS: dict[str, Source] = {
    "image-generation": "generated",
    "image-edit": "edited",
    "image-upscale": "upscaled",
    "image-control": "controlled",
    "social-optimization": "social",
}
#: how far back an inline image is looked for among the caller's own outputs
RECENT_OUTPUTS = 50


class SaveRequest(RequestModel):
    image: str | None = Field(
        None,
        validation_alias=AliasChoices("image", "image_base64"),
        description="An inline image (base64 or data URL) to keep ('image_base64' is accepted too).",
    )
    job_id: str | None = Field(None, description="Keep this job's outputs.")
    title: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=2000)
    tags: list[str] = Field(default_factory=list, max_length=50)
    prompt: PromptText | None = Field(None, max_length=4000)
    provider: str | None = Field(None, max_length=40)
    model: str | None = Field(None, max_length=80)
    source: Source | None = Field(None, description="What made the image; 'external' when not given.")
    operation: Literal[tuple(ORIGINAL_OPERATIONS)] | None = Field(  # type: ignore[valid-type]
        None, description="The original client's name for what made the image: sets source when not given."
    )
    output_format: Literal["png", "jpeg", "jpg", "webp"] | None = Field(
        None, description="The original client's: the image is kept in its own format, as sent."
    )
    cost: float | None = Field(
        None,
        validation_alias=AliasChoices("cost", "cost_credits"),
        description="Ignored, never stored: a saved asset's cost is the cost of the job that made it "
        "(an image made elsewhere costs 0 here).",
    )

    @model_validator(mode="after")
    def _one_source(self) -> SaveRequest:
        if bool(self.image) == bool(self.job_id):
            raise ValueError("give exactly one of 'image' (inline) or 'job_id'")
        return self


@dataclass(frozen=True)
class Saved:
    assets: list[Asset]
    notes: list[str]


def _made_here(ports: Ports, owner: str, data: bytes) -> Asset | None:
    """One of the caller's recent outputs whose file is exactly these bytes (the original client saves
    each create result it was just given), or None."""
    for asset, _ in islice(
        ports.assets.iter_assets(owner, asset_type="image", page_size=RECENT_OUTPUTS), RECENT_OUTPUTS
    ):
        if asset.bytes == len(data) and asset.job_id and ports.blobs.get(asset.key) == data:
            return asset
    return None


def _keep(ports: Ports, asset: Asset, request: SaveRequest, tags: list[str]) -> Asset:
    return ports.assets.update(
        asset.model_copy(
            update={
                "title": request.title or asset.title,
                "description": request.description or asset.description,
                "tags": sorted(set(asset.tags) | set(tags)),
                "metadata": {**asset.metadata, "saved": True},
            }
        )
    )


def save_to_library(ports: Ports, owner: str, request: SaveRequest) -> Saved:
    tags = sorted({t.strip().lower() for t in request.tags if t.strip()})
    notes = []
    if request.cost is not None:
        notes.append(
            "The cost sent was ignored: a saved image's cost is that of the job that made it "
            "(0 for an image made elsewhere)."
        )
    if request.job_id:
        job = ports.jobs.get(owner, request.job_id)
        if not job.outputs:
            raise InvalidInput(f"Job {job.id} has no outputs to keep (it is {job.status}).")
        return Saved([_keep(ports, ports.assets.get(owner, a), request, tags) for a in job.outputs], notes)
    assert request.image is not None
    raw = decode_inline_image(request.image)
    ours = _made_here(ports, owner, raw)
    if ours is not None:
        notes.append(
            f"This image is already in your library as asset {ours.id} (made by job {ours.job_id}, "
            f"{ours.cost_credits} credits): it was kept there, not copied."
        )
        return Saved([_keep(ports, ours, request, tags)], notes)
    verified = verify_image(raw)
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
    source = request.source or (ORIGINAL_OPERATIONS[request.operation] if request.operation else "external")
    if request.output_format and EXTENSIONS.get(request.output_format) != verified.extension:
        notes.append(
            f"Kept as {verified.extension}, the image's own format "
            f"(output_format was {request.output_format})."
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
        source=source,
        operation="save-to-library",
        tags=tags,
        metadata={"saved": True, "removed_metadata": verified.removed_metadata},
    )
    return Saved([ports.assets.create(tagged(asset, files.thumbnail.image))], notes)


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

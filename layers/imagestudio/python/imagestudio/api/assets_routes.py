"""GET assets/{id} (with short-lived download URLs) and DELETE assets/{id}."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel

from imagestudio import API_PREFIX
from imagestudio.api.context import caller, ports
from imagestudio.api.idempotency import HEADER, run_idempotent
from imagestudio.api.views import AssetView
from imagestudio.operations.library import SaveRequest, save_to_library, versions

router = Router()


class VersionView(BaseModel):
    depth: int
    asset: AssetView


class Versions(BaseModel):
    asset: AssetView
    ancestors: list[AssetView]
    descendants: list[VersionView]


class Saved(BaseModel):
    assets: list[AssetView]


class Deleted(BaseModel):
    id: str
    deleted: bool


@router.get(f"{API_PREFIX}/assets/<asset_id>", summary="An asset with its download URL", tags=["Assets"])
def get_asset(asset_id: Annotated[str, Path(max_length=64)]) -> AssetView:
    p = ports()
    return AssetView.of(p.assets.get(caller(router).user_id, asset_id), p.blobs)


@router.delete(f"{API_PREFIX}/assets/<asset_id>", summary="Delete an asset and its files", tags=["Assets"])
def delete_asset(asset_id: Annotated[str, Path(max_length=64)]) -> Deleted:
    p = ports()
    asset = p.assets.delete(caller(router).user_id, asset_id)
    p.blobs.delete(*[k for k in (asset.key, asset.thumbnail_key) if k])
    return Deleted(id=asset_id, deleted=True)


@router.get(
    f"{API_PREFIX}/assets/<asset_id>/versions",
    summary="An asset's lineage both ways",
    description="ancestors: what it was made from (parent first); descendants: edits, upscales and other "
    "versions made from it, breadth first with their depth.",
    tags=["Assets"],
)
def get_versions(asset_id: Annotated[str, Path(max_length=64)]) -> Versions:
    p = ports()
    lineage = versions(p, caller(router).user_id, asset_id)
    return Versions(
        asset=AssetView.of(lineage.asset, p.blobs),
        ancestors=[AssetView.of(a, p.blobs) for a in lineage.ancestors],
        descendants=[VersionView(depth=d, asset=AssetView.of(a, p.blobs)) for d, a in lineage.descendants],
    )


@router.post(
    f"{API_PREFIX}/save-to-library",
    summary="Keep an inline image or a job's outputs in the library",
    description="An inline image is verified, stripped of metadata and stored with its prompt, provider, "
    "model and cost; a job's outputs are marked saved with the title and tags given. "
    "Accepts an Idempotency-Key.",
    tags=["Assets"],
)
def save(request: SaveRequest) -> Saved:
    who = caller(router)

    def run() -> dict[str, object]:
        p = ports()
        kept = save_to_library(p, who.user_id, request)
        return Saved(assets=[AssetView.of(a, p.blobs) for a in kept]).model_dump(mode="json")

    key = router.current_event.headers.get(HEADER)
    body = request.model_dump(mode="json")
    return Saved.model_validate(
        run_idempotent(key, user=who.user_id, scope="save", body=body, run=run, context=router.lambda_context)
    )

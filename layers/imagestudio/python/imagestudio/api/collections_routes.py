"""Collections and campaigns: POST/GET collections, GET/PATCH/DELETE collections/{id},
POST collections/{id}/assets, DELETE collections/{id}/assets/{asset_id}."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, Field

from imagestudio import API_PREFIX
from imagestudio.api.context import caller, ports
from imagestudio.api.views import AssetView, CollectionView
from imagestudio.models.records import CollectionKind
from imagestudio.models.requests import RequestModel
from imagestudio.operations.collections import (
    MAX_ADD,
    CollectionFields,
    NewCollection,
    add_assets,
    create_collection,
    delete_collection,
    remove_asset,
    update_collection,
)

router = Router()
PREVIEW = 24
Id = Annotated[str, Path(max_length=64)]


class CollectionDetail(CollectionView):
    assets: list[AssetView] = Field(description=f"the newest {PREVIEW}; GET assets?collection_id= lists all")


class CollectionList(BaseModel):
    collections: list[CollectionView]


class AddAssets(RequestModel):
    asset_ids: list[str] = Field(min_length=1, max_length=MAX_ADD)


class Added(BaseModel):
    asset_id: str
    result: Literal["added", "moved", "already_in"]


class AddResult(BaseModel):
    collection: CollectionView
    assets: list[Added]


class CollectionDeleted(BaseModel):
    id: str
    deleted: bool
    assets_released: int = Field(description="assets that were in it: kept in the library, in no collection")
    shares_revoked: int


class Removed(BaseModel):
    collection_id: str
    asset_id: str
    removed: bool


@router.post(
    f"{API_PREFIX}/collections",
    summary="Create a collection, or a campaign (kind=campaign, with dates and platforms)",
    tags=["Collections"],
    responses={201: {"description": "Created", "content": {"application/json": {"model": CollectionView}}}},
)
def create(body: NewCollection) -> Response[CollectionView]:
    p = ports()
    made = create_collection(p, caller(router).user_id, body)
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=CollectionView.of(made, p.blobs, p.assets),
        headers={"Location": f"{API_PREFIX}/collections/{made.id}"},
    )


@router.get(f"{API_PREFIX}/collections", summary="Your collections and campaigns", tags=["Collections"])
def list_collections(
    kind: Annotated[CollectionKind | None, Query(description="only collections or only campaigns")] = None,
    active_on: Annotated[
        str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$", description="campaigns running on this date")
    ] = None,
) -> CollectionList:
    p = ports()
    found = p.collections.list(caller(router).user_id)
    if kind:
        found = [c for c in found if c.kind == kind]
    if active_on:
        found = [
            c
            for c in found
            if c.starts_on and c.ends_on and c.starts_on.isoformat() <= active_on <= c.ends_on.isoformat()
        ]
    return CollectionList(collections=[CollectionView.of(c, p.blobs, p.assets) for c in found])


@router.get(
    f"{API_PREFIX}/collections/<collection_id>",
    summary="A collection with its cover and newest assets",
    tags=["Collections"],
)
def get_collection(collection_id: Id) -> CollectionDetail:
    p = ports()
    owner = caller(router).user_id
    found = p.collections.get(owner, collection_id)
    assets = p.assets.in_collection(owner, collection_id, PREVIEW)
    return CollectionDetail(
        **CollectionView.of(found, p.blobs, p.assets).model_dump(),
        assets=[AssetView.of(a, p.blobs) for a in assets],
    )


@router.patch(
    f"{API_PREFIX}/collections/<collection_id>",
    summary="Rename, describe, set the cover, or change a campaign's dates and platforms",
    description="Only the fields sent change; null clears description, cover or platforms.",
    tags=["Collections"],
)
def patch_collection(collection_id: Id, body: CollectionFields) -> CollectionView:
    p = ports()
    return CollectionView.of(
        update_collection(p, caller(router).user_id, collection_id, body), p.blobs, p.assets
    )


@router.delete(
    f"{API_PREFIX}/collections/<collection_id>",
    summary="Delete a collection (its assets stay in the library; its share links are revoked)",
    tags=["Collections"],
)
def delete(collection_id: Id) -> CollectionDeleted:
    released, revoked = delete_collection(ports(), caller(router).user_id, collection_id)
    return CollectionDeleted(id=collection_id, deleted=True, assets_released=released, shares_revoked=revoked)


@router.post(
    f"{API_PREFIX}/collections/<collection_id>/assets",
    summary="Add assets to a collection",
    description="An asset is in one collection at most: one in another collection moves here "
    "(result: moved). "
    "Every id is checked first; an unknown one adds nothing (404).",
    tags=["Collections"],
)
def add(collection_id: Id, body: AddAssets) -> AddResult:
    p = ports()
    owner = caller(router).user_id
    done = add_assets(p, owner, collection_id, body.asset_ids)
    return AddResult(
        collection=CollectionView.of(p.collections.get(owner, collection_id), p.blobs, p.assets),
        assets=[Added(asset_id=a, result=r) for a, r in done],
    )


@router.delete(
    f"{API_PREFIX}/collections/<collection_id>/assets/<asset_id>",
    summary="Take an asset out of a collection (it stays in the library)",
    tags=["Collections"],
)
def remove(collection_id: Id, asset_id: Id) -> Removed:
    remove_asset(ports(), caller(router).user_id, collection_id, asset_id)
    return Removed(collection_id=collection_id, asset_id=asset_id, removed=True)

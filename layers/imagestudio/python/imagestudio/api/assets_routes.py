"""GET assets (filter, search, sort, page), GET/PATCH/DELETE assets/{id}, POST assets/{id}/favorite."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, Field

from imagestudio import API_PREFIX
from imagestudio.api.context import caller, ports
from imagestudio.api.idempotency import HEADER, run_idempotent
from imagestudio.api.views import AssetView
from imagestudio.errors import InvalidInput
from imagestudio.models.records import AssetType
from imagestudio.models.requests import RequestModel
from imagestudio.operations.library import SaveRequest, save_to_library, versions
from imagestudio.operations.library import delete_asset as remove_asset
from imagestudio.operations.library_search import (
    MAX_SORTED,
    MAX_TAGS,
    LibraryQuery,
    SortField,
    SortOrder,
    TagsMode,
    normalise_tags,
    parse_bound,
    search_library,
)
from imagestudio.operations.library_stats import MAX_COUNTED, MOST_USED, LibraryStatistics, statistics

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
    notes: list[str] = []


class Deleted(BaseModel):
    id: str
    deleted: bool
    versions_detached: list[str] = []
    shares_revoked: int = 0
    covers_cleared: list[str] = []
    left_collection: str | None = None
    objects_deleted: int = 0


UsageAction = Literal["download", "share", "access"]


class Usage(BaseModel):
    id: str
    action: UsageAction
    download_count: int
    share_count: int
    access_count: int
    last_accessed: datetime | None


class AssetPage(BaseModel):
    assets: list[AssetView]
    next_cursor: str | None
    truncated: bool = Field(False, description=f"a non-date sort met its {MAX_SORTED}-item read cap")


class AssetPatch(RequestModel):
    title: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=2000)
    tags: list[str] | None = Field(None, description=f"lower-cased, unique, at most {MAX_TAGS}")


class Favorite(BaseModel):
    id: str
    favorite: bool


@router.get(
    f"{API_PREFIX}/assets",
    summary="List, filter, search and sort your library",
    description="Newest first by default. Sorting by anything but created_at considers at most "
    f"{MAX_SORTED} assets (truncated says so). Pass next_cursor back with the same filters and sort.",
    tags=["Assets"],
)
def list_assets(
    asset_type: Annotated[AssetType | None, Query(description="Only assets of this type.")] = None,
    source_module: Annotated[
        str | None, Query(max_length=64, description="The operation or source that made them.")
    ] = None,
    search: Annotated[
        str | None,
        Query(max_length=200, description="Words found in title, description, prompt, filename or tags."),
    ] = None,
    tags: Annotated[str | None, Query(max_length=2000, description="Comma-separated tags.")] = None,
    tags_mode: Annotated[TagsMode, Query(description="any: one of the tags; all: every tag.")] = "any",
    favorites_only: Annotated[bool, Query()] = False,
    collection_id: Annotated[str | None, Query(max_length=64)] = None,
    date_from: Annotated[str | None, Query(max_length=40, description="ISO date or date-time.")] = None,
    date_to: Annotated[
        str | None, Query(max_length=40, description="ISO date (inclusive) or date-time.")
    ] = None,
    sort: Annotated[SortField, Query()] = "created_at",
    order: Annotated[SortOrder, Query()] = "desc",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=4096, description="next_cursor of the previous page")
    ] = None,
) -> AssetPage:
    p = ports()
    query = LibraryQuery(
        asset_type=asset_type,
        source_module=source_module,
        search=search,
        tags=(tags or "").split(","),
        tags_mode=tags_mode,
        favorites_only=favorites_only,
        collection_id=collection_id,
        date_from=parse_bound(date_from, end=False, name="date_from"),
        date_to=parse_bound(date_to, end=True, name="date_to"),
        sort=sort,
        order=order,
    )
    page = search_library(p.assets, caller(router).user_id, query, limit=limit, cursor=cursor)
    return AssetPage(
        assets=[AssetView.of(a, p.blobs) for a in page.assets],
        next_cursor=page.next_cursor,
        truncated=page.truncated,
    )


# Registered before assets/<asset_id> so the literal path wins.
@router.get(
    f"{API_PREFIX}/assets/statistics",
    summary="Your library's usage statistics",
    description="Totals by type, by source operation and by month; total cost; favourites; downloads, "
    f"shares and accesses; the {MOST_USED} most used assets. Counts at most {MAX_COUNTED} assets "
    "(truncated says so).",
    tags=["Assets"],
)
def get_statistics() -> LibraryStatistics:
    return statistics(ports(), caller(router).user_id)


@router.get(
    f"{API_PREFIX}/assets/<asset_id>",
    summary="An asset with its download URL",
    description="Counts one access.",
    tags=["Assets"],
)
def get_asset(asset_id: Annotated[str, Path(max_length=64)]) -> AssetView:
    p = ports()
    return AssetView.of(p.assets.record_usage(caller(router).user_id, asset_id, "access"), p.blobs)


@router.get(
    f"{API_PREFIX}/assets/<asset_id>/download",
    summary="Download an asset (a redirect to its file)",
    description="Answers 302 to a presigned URL valid for 15 minutes and counts one download.",
    tags=["Assets"],
    responses={302: {"description": "Found: the Location header is the file's URL."}},
)
def download_asset(asset_id: Annotated[str, Path(max_length=64)]) -> Response[None]:
    p = ports()
    asset = p.assets.record_usage(caller(router).user_id, asset_id, "download")
    url = p.blobs.download_url(asset.key, filename=asset.filename)
    return Response(status_code=302, headers={"Location": url}, body=None)


@router.post(
    f"{API_PREFIX}/assets/<asset_id>/usage",
    summary="Record a download, share or access of an asset",
    description="For what happens outside the API (a download from a cached URL, a post on a platform).",
    tags=["Assets"],
)
def record_usage(
    asset_id: Annotated[str, Path(max_length=64)],
    action: Annotated[UsageAction, Query(description="download, share or access")],
) -> Usage:
    asset = ports().assets.record_usage(caller(router).user_id, asset_id, action)
    return Usage(
        id=asset.id,
        action=action,
        download_count=asset.download_count,
        share_count=asset.share_count,
        access_count=asset.access_count,
        last_accessed=asset.last_accessed,
    )


@router.delete(
    f"{API_PREFIX}/assets/<asset_id>",
    summary="Delete an asset and its files",
    description="409 when versions were made from it, a live share link shows it or it is a collection's "
    "cover (the answer names them); force=true keeps the versions (detached, with deleted_parent_id in "
    "their metadata), revokes the links and clears the covers. Jobs keep their history.",
    tags=["Assets"],
)
def delete_asset(
    asset_id: Annotated[str, Path(max_length=64)],
    force: Annotated[bool, Query(description="delete even when other records depend on it")] = False,
) -> Deleted:
    done = remove_asset(ports(), caller(router).user_id, asset_id, force=force)
    return Deleted(
        id=asset_id,
        deleted=True,
        versions_detached=done.versions_detached,
        shares_revoked=done.shares_revoked,
        covers_cleared=done.covers_cleared,
        left_collection=done.left_collection,
        objects_deleted=done.objects_deleted,
    )


@router.patch(
    f"{API_PREFIX}/assets/<asset_id>",
    summary="Change an asset's title, description or tags",
    description="Only the fields sent change; tags replace the old ones (lower-cased, unique).",
    tags=["Assets"],
)
def patch_asset(asset_id: Annotated[str, Path(max_length=64)], patch: AssetPatch) -> AssetView:
    p = ports()
    asset = p.assets.get(caller(router).user_id, asset_id)
    changes = {k: getattr(patch, k) for k in patch.model_fields_set if k != "tags"}
    if "tags" in patch.model_fields_set:
        tags = normalise_tags(patch.tags or [])
        if len(tags) > MAX_TAGS:
            raise InvalidInput(f"At most {MAX_TAGS} tags.")
        if any(len(t) > 64 for t in tags):
            raise InvalidInput("A tag is at most 64 characters.")
        changes["tags"] = tags
    return AssetView.of(p.assets.update(asset.model_copy(update=changes)), p.blobs)


@router.post(
    f"{API_PREFIX}/assets/<asset_id>/favorite",
    summary="Toggle an asset's favourite flag",
    description="Answers the new state.",
    tags=["Assets"],
)
def toggle_favorite(asset_id: Annotated[str, Path(max_length=64)]) -> Favorite:
    asset = ports().assets.toggle_favorite(caller(router).user_id, asset_id)
    return Favorite(id=asset.id, favorite=asset.favorite)


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
    description="An inline image is verified, stripped of metadata and stored with its prompt, provider "
    "and model; a job's outputs are marked saved with the title and tags given. An inline image that is "
    "one of your recent outputs (as the original Image Studio client sends each create result) is kept "
    "where it is, not copied. A cost sent by the client (cost, cost_credits) is ignored: an asset's cost "
    "is that of the job that made it, 0 for an image made elsewhere. The original client's image_base64, "
    "operation (image-generation, ...) and output_format are accepted. Accepts an Idempotency-Key.",
    tags=["Assets"],
)
def save(request: SaveRequest) -> Saved:
    who = caller(router)

    def run() -> dict[str, object]:
        p = ports()
        kept = save_to_library(p, who.user_id, request)
        return Saved(assets=[AssetView.of(a, p.blobs) for a in kept.assets], notes=kept.notes).model_dump(
            mode="json"
        )

    key = router.current_event.headers.get(HEADER)
    body = request.model_dump(mode="json")
    return Saved.model_validate(
        run_idempotent(key, user=who.user_id, scope="save", body=body, run=run, context=router.lambda_context)
    )

"""Collections and campaigns: create, change, delete (assets are kept), add and remove assets."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from imagestudio.catalog import get_catalog
from imagestudio.errors import InvalidInput, NotFound
from imagestudio.ids import new_id
from imagestudio.models.records import Collection, CollectionKind
from imagestudio.models.requests import RequestModel
from imagestudio.operations.shares import revoke_targets
from imagestudio.ports import Ports

MAX_ADD = 100


class CollectionFields(RequestModel):
    name: str | None = Field(None, min_length=1, max_length=120)
    description: str | None = Field(None, max_length=2000)
    cover_asset_id: str | None = Field(None, max_length=64, description="one of your assets")
    starts_on: date | None = Field(None, description="campaigns: first day")
    ends_on: date | None = Field(None, description="campaigns: last day (inclusive)")
    platforms: list[str] | None = Field(None, max_length=20, description="campaigns: e.g. instagram, tiktok")


class NewCollection(CollectionFields):
    name: str = Field(min_length=1, max_length=120)
    kind: CollectionKind = "collection"


def _check(ports: Ports, owner: str, c: Collection) -> Collection:
    if c.cover_asset_id:
        ports.assets.get(owner, c.cover_asset_id)  # another user's asset is a 404 here too
    if c.kind == "campaign":
        if c.starts_on is None or c.ends_on is None:
            raise InvalidInput(
                "A campaign needs starts_on and ends_on (ISO dates, e.g. 2026-12-01).",
                details={"field": "starts_on" if c.starts_on is None else "ends_on"},
            )
        if not c.platforms:
            raise InvalidInput(
                'A campaign needs its platforms, e.g. ["instagram", "tiktok"].',
                details={"field": "platforms"},
            )
    elif c.starts_on or c.ends_on or c.platforms:
        raise InvalidInput(
            "Dates and platforms belong to campaigns: create it with kind 'campaign'.",
            details={"field": "kind"},
        )
    if c.starts_on and c.ends_on and c.starts_on > c.ends_on:
        raise InvalidInput("starts_on is after ends_on.", details={"field": "ends_on"})
    catalog = get_catalog()  # aliases (x -> twitter) become the platform's name; unknown ones are a 422
    platforms = sorted({catalog.platform(p, status=422).name for p in c.platforms})
    return c.model_copy(update={"platforms": platforms})


def create_collection(ports: Ports, owner: str, request: NewCollection) -> Collection:
    fields = request.model_dump(exclude_none=True)
    collection = _check(ports, owner, Collection(id=new_id(), owner=owner, **fields))
    return ports.collections.create(collection)


def update_collection(ports: Ports, owner: str, collection_id: str, patch: CollectionFields) -> Collection:
    current = ports.collections.get(owner, collection_id)
    changes = {k: getattr(patch, k) for k in patch.model_fields_set}
    if changes.get("name", "") is None:
        raise InvalidInput("A collection keeps a name.", details={"field": "name"})
    if "platforms" in changes and changes["platforms"] is None:
        changes["platforms"] = []
    return ports.collections.update(_check(ports, owner, current.model_copy(update=changes)))


def delete_collection(ports: Ports, owner: str, collection_id: str) -> tuple[int, int]:
    """Delete a collection: its assets stay in the library (out of any collection) and its share links
    are revoked. Answers (assets released, links revoked)."""
    ports.collections.get(owner, collection_id)
    released = 0
    for asset in ports.assets.in_collection(owner, collection_id):
        ports.collections.move(asset, None)
        released += 1
    revoked = revoke_targets(ports, owner, "collection", collection_id)
    ports.collections.delete(owner, collection_id)
    return released, revoked


Moved = Literal["added", "moved", "already_in"]


def add_assets(ports: Ports, owner: str, collection_id: str, asset_ids: list[str]) -> list[tuple[str, Moved]]:
    """Add assets to a collection; an asset in another collection moves (an asset is in one at most).
    Every id is checked first, so an unknown id adds nothing."""
    if not asset_ids:
        raise InvalidInput("Give the asset_ids to add.", details={"field": "asset_ids"})
    if len(asset_ids) > MAX_ADD:
        raise InvalidInput(f"At most {MAX_ADD} assets per request.", details={"field": "asset_ids"})
    ports.collections.get(owner, collection_id)
    assets = []
    for asset_id in dict.fromkeys(asset_ids):
        try:
            assets.append(ports.assets.get(owner, asset_id))
        except NotFound:
            raise NotFound(
                f"No asset {asset_id}; nothing was added.", details={"asset_id": asset_id}
            ) from None
    done: list[tuple[str, Moved]] = []
    for asset in assets:
        if asset.collection_id == collection_id:
            done.append((asset.id, "already_in"))
            continue
        ports.collections.move(asset, collection_id)
        done.append((asset.id, "moved" if asset.collection_id else "added"))
    return done


def remove_asset(ports: Ports, owner: str, collection_id: str, asset_id: str) -> None:
    ports.collections.get(owner, collection_id)
    asset = ports.assets.get(owner, asset_id)
    if asset.collection_id != collection_id:
        raise NotFound(f"Asset {asset_id} is not in collection {collection_id}.")
    ports.collections.move(asset, None)
    current = ports.collections.get(owner, collection_id)
    if current.cover_asset_id == asset_id:
        ports.collections.clear_cover(owner, collection_id, asset_id)

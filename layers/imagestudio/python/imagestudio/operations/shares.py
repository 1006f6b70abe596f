"""Share links: a public, read-only view of one asset or a collection, with an expiry and a revoke.

The token is 32 random bytes (256 bits, URL-safe): unguessable, so the link itself is the permission.
A public view shows only what was shared, through presigned URLs that expire with the link (at most
15 minutes); an expired, revoked or unknown link, or one whose target was deleted, is the same 404.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import Field, model_validator

from imagestudio.errors import NotFound
from imagestudio.models.records import Asset, Collection, Share, utcnow
from imagestudio.models.requests import RequestModel
from imagestudio.ports import Ports

DEFAULT_EXPIRY = 7 * 86400
MIN_EXPIRY = 60
MAX_EXPIRY = 90 * 86400
MAX_SHARED_ASSETS = 200
URL_SECONDS = 900
GONE = "This share link does not exist, has expired or was revoked."


class ShareRequest(RequestModel):
    asset_id: str | None = Field(None, max_length=64)
    collection_id: str | None = Field(None, max_length=64)
    expires_in: int = Field(
        DEFAULT_EXPIRY, ge=MIN_EXPIRY, le=MAX_EXPIRY, description="seconds, 60 to 90 days; 7 days by default"
    )
    title: str | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _one_target(self) -> ShareRequest:
        if bool(self.asset_id) == bool(self.collection_id):
            raise ValueError("give exactly one of 'asset_id' or 'collection_id'")
        return self


def create_share(ports: Ports, owner: str, request: ShareRequest) -> Share:
    target: Literal["asset", "collection"]
    if request.asset_id:
        asset = ports.assets.get(owner, request.asset_id)
        target, target_id, title = "asset", asset.id, request.title or asset.title
        shared = [asset.id]
    else:
        assert request.collection_id
        collection = ports.collections.get(owner, request.collection_id)
        target, target_id, title = "collection", collection.id, request.title or collection.name
        shared = [a.id for a in ports.assets.in_collection(owner, collection.id, MAX_SHARED_ASSETS)]
    now = utcnow()
    share = ports.shares.create(
        Share(
            token=secrets.token_urlsafe(32),
            owner=owner,
            target_type=target,
            target_id=target_id,
            title=title,
            expires_at=now + timedelta(seconds=request.expires_in),
            created_at=now,
        )
    )
    for asset_id in shared:  # sharing is usage: every shared asset counts one share
        ports.assets.record_usage(owner, asset_id, "share")
    return share


@dataclass(frozen=True)
class SharedView:
    share: Share
    assets: list[Asset]
    collection: Collection | None
    url_seconds: int


def view_share(ports: Ports, token: str, now: datetime | None = None) -> SharedView:
    """What a link shows, counted as one view. No login: the token is the only key."""
    moment = now or utcnow()
    share = ports.shares.find(token) if 20 <= len(token) <= 100 else None
    if share is None or not share.live(moment):
        raise NotFound(GONE)
    collection = None
    try:
        if share.target_type == "asset":
            assets = [ports.assets.get(share.owner, share.target_id)]
        else:
            collection = ports.collections.get(share.owner, share.target_id)
            assets = ports.assets.in_collection(share.owner, collection.id, MAX_SHARED_ASSETS)
    except NotFound:
        raise NotFound(GONE) from None
    ports.shares.count_view(token, moment)
    seconds = max(1, min(URL_SECONDS, int((share.expires_at - moment).total_seconds())))
    viewed = share.model_copy(update={"views": share.views + 1, "last_viewed_at": moment})
    return SharedView(share=viewed, assets=assets, collection=collection, url_seconds=seconds)


def shared_asset(ports: Ports, token: str, asset_id: str, now: datetime | None = None) -> Asset:
    """An asset a live link shows (not counted as a view: the view was). Anything else is the same 404,
    so a link reveals nothing beyond what it shares."""
    moment = now or utcnow()
    share = ports.shares.find(token) if 20 <= len(token) <= 100 else None
    if share is None or not share.live(moment):
        raise NotFound(GONE)
    try:
        asset = ports.assets.get(share.owner, asset_id)
    except NotFound:
        raise NotFound(GONE) from None
    target = asset.id if share.target_type == "asset" else asset.collection_id
    if target != share.target_id:
        raise NotFound(GONE)
    return asset


def revoke_targets(
    ports: Ports, owner: str, target_type: Literal["asset", "collection"], target_id: str
) -> int:
    revoked = 0
    for share in ports.shares.list(owner, target_type, target_id):
        if share.revoked_at is None:
            ports.shares.revoke(owner, share.token)
            revoked += 1
    return revoked

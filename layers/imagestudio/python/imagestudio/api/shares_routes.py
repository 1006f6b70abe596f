"""Share links: POST shares, GET shares, DELETE shares/{token} (owner), and the public
GET public/shares/{token} (no login: the token is the permission)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, cast

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from pydantic import BaseModel

from imagestudio import API_PREFIX
from imagestudio.api.context import caller, ports
from imagestudio.models.records import AssetType, Share, ShareTarget, utcnow
from imagestudio.operations.shares import ShareRequest, create_share, view_share

router = Router()
public_router = Router()
Token = Annotated[str, Path(max_length=100)]


def public_path(token: str) -> str:
    return f"{API_PREFIX}/public/shares/{token}"


class ShareView(BaseModel):
    token: str
    url: str
    path: str
    target_type: ShareTarget
    target_id: str
    title: str | None
    expires_at: datetime
    revoked_at: datetime | None
    active: bool
    views: int
    last_viewed_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, share: Share, base: str) -> ShareView:
        return cls(
            **share.model_dump(exclude={"owner"}),
            url=base + public_path(share.token),
            path=public_path(share.token),
            active=share.live(utcnow()),
        )


class ShareList(BaseModel):
    shares: list[ShareView]


def _base(route: Router) -> str:
    event = cast(APIGatewayProxyEventV2, route.current_event)
    scheme = event.headers.get("x-forwarded-proto", "https")
    return f"{scheme}://{event.request_context.domain_name}"


@router.post(
    f"{API_PREFIX}/shares",
    summary="Share an asset or a collection as a public, read-only link",
    description="The token is unguessable; anyone with the link sees only what was shared until it expires "
    "(expires_in seconds, 7 days by default) or is revoked. A collection link shows its assets as they are "
    "when viewed. Each shared asset counts one share.",
    tags=["Shares"],
    responses={201: {"description": "Created", "content": {"application/json": {"model": ShareView}}}},
)
def create(body: ShareRequest) -> Response[ShareView]:
    share = create_share(ports(), caller(router).user_id, body)
    view = ShareView.of(share, _base(router))
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=view,
        headers={"Location": view.path},
    )


@router.get(f"{API_PREFIX}/shares", summary="Your share links, newest first", tags=["Shares"])
def list_shares() -> ShareList:
    base = _base(router)
    return ShareList(shares=[ShareView.of(s, base) for s in ports().shares.list(caller(router).user_id)])


@router.delete(f"{API_PREFIX}/shares/<token>", summary="Revoke a share link", tags=["Shares"])
def revoke(token: Token) -> ShareView:
    return ShareView.of(ports().shares.revoke(caller(router).user_id, token), _base(router))


class SharedAsset(BaseModel):
    id: str
    type: AssetType
    title: str | None
    description: str | None
    mime: str
    width: int | None
    height: int | None
    duration: float | None
    bytes: int
    url: str
    thumbnail_url: str | None


class SharedCollection(BaseModel):
    name: str
    description: str | None
    kind: str


class PublicShare(BaseModel):
    title: str | None
    target_type: ShareTarget
    collection: SharedCollection | None
    assets: list[SharedAsset]
    expires_at: datetime
    urls_expire_in: int
    views: int


@public_router.get(
    f"{API_PREFIX}/public/shares/<token>",
    summary="What a share link shows (no login)",
    description="Presigned URLs valid for at most 15 minutes (never past the link's expiry). An expired, "
    "revoked or unknown link is 404. Each call counts one view.",
    tags=["Shares"],
)
def view(token: Token) -> PublicShare:
    p = ports()
    seen = view_share(p, token)
    ttl = seen.url_seconds
    return PublicShare(
        title=seen.share.title,
        target_type=seen.share.target_type,
        collection=SharedCollection(**seen.collection.model_dump(include={"name", "description", "kind"}))
        if seen.collection
        else None,
        assets=[
            SharedAsset(
                **a.model_dump(
                    include={
                        "id",
                        "type",
                        "title",
                        "description",
                        "mime",
                        "width",
                        "height",
                        "duration",
                        "bytes",
                    }
                ),
                url=p.blobs.download_url(a.key, filename=a.filename, expires=ttl),
                thumbnail_url=p.blobs.download_url(a.thumbnail_key, expires=ttl) if a.thumbnail_key else None,
            )
            for a in seen.assets
        ],
        expires_at=seen.share.expires_at,
        urls_expire_in=ttl,
        views=seen.share.views,
    )

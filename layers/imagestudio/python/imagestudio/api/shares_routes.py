"""Share links: POST shares, GET shares, DELETE shares/{token} (owner), and the public
GET public/shares/{token} and its files, GET public/shares/{token}/files/{asset_id} (no login: the token
is the permission). Shared files are served through our own path, never a presigned S3 URL, which would
name the bucket (and with it the account) and the owner's user id in its key."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal, cast

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from pydantic import BaseModel

from imagestudio import API_PREFIX
from imagestudio.api.context import caller, ports
from imagestudio.api.resolver import PUBLIC_ROUTE
from imagestudio.errors import InvalidInput, NotFound, TooLarge
from imagestudio.models.records import AssetType, Share, ShareTarget, utcnow
from imagestudio.operations.shares import GONE, ShareRequest, create_share, shared_asset, view_share
from imagestudio.store.blobs import RangeNotSatisfiable

router = Router()
public_router = Router()
Token = Annotated[str, Path(max_length=100)]


# A Lambda answers at most 6 MB, base64 included: a file is sent whole up to 4 MB, larger ones by range.
MAX_FILE_CHUNK = 4 * 1024 * 1024
Variant = Literal["original", "thumbnail"]


def public_path(token: str) -> str:
    return f"{API_PREFIX}/public/shares/{token}"


def public_file_path(token: str, asset_id: str, variant: Variant = "original") -> str:
    path = f"{public_path(token)}/files/{asset_id}"
    return path if variant == "original" else f"{path}?variant={variant}"


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
    description="File URLs are ours (public/shares/{token}/files/{asset_id}), valid while the link is. An "
    "expired, revoked or unknown link is 404. Each call counts one view.",
    tags=["Shares"],
    openapi_extensions=PUBLIC_ROUTE,
)
def view(token: Token) -> PublicShare:
    p = ports()
    seen = view_share(p, token)
    ttl = seen.url_seconds
    base = _base(public_router)
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
                url=base + public_file_path(token, a.id),
                thumbnail_url=base + public_file_path(token, a.id, "thumbnail") if a.thumbnail_key else None,
            )
            for a in seen.assets
        ],
        expires_at=seen.share.expires_at,
        urls_expire_in=ttl,
        views=seen.share.views,
    )


_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def _safe_name(filename: str | None, variant: Variant) -> str:
    """A file name fit for a header: no quotes, no line breaks, nothing a browser could misread."""
    if variant == "thumbnail":
        return "thumb.webp"
    return re.sub(r"[^A-Za-z0-9._-]", "_", filename or "file")[:120] or "file"


@public_router.get(
    f"{API_PREFIX}/public/shares/<token>/files/<asset_id>",
    summary="A shared file (no login)",
    description="The file (or `variant=thumbnail`) of an asset a live link shows. Up to 4 MB it comes whole; "
    "larger files answer 206 to a `Range: bytes=start-end` request (at most 4 MB a time), as video players "
    "ask, and 413 without one. Not counted as a view.",
    tags=["Shares"],
    openapi_extensions=PUBLIC_ROUTE,
    # the answer is raw file bytes, which Powertools' response validation would try to read as text
    enable_validation=False,
)
def shared_file(token: str, asset_id: str) -> Response[bytes]:
    asked = public_router.current_event.get_query_string_value("variant", "original") or "original"
    if asked not in ("original", "thumbnail"):
        raise InvalidInput("variant is 'original' or 'thumbnail'.", details={"field": "variant"})
    variant = cast(Variant, asked)
    if len(token) > 100 or len(asset_id) > 64:
        raise NotFound(GONE)
    p = ports()
    asset = shared_asset(p, token, asset_id)
    key = asset.thumbnail_key if variant == "thumbnail" else asset.key
    if not key:
        raise NotFound("This asset has no thumbnail.", details={"field": "variant"})
    mime = "image/webp" if variant == "thumbnail" else asset.mime
    headers = {
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, max-age=300",
        "Content-Disposition": f'inline; filename="{_safe_name(asset.filename, variant)}"',
        "X-Content-Type-Options": "nosniff",
    }
    wanted = public_router.current_event.headers.get("range")
    if not wanted:
        size = p.blobs.size(key) or 0
        if size > MAX_FILE_CHUNK:
            raise TooLarge(
                f"This file has {size:,} bytes, more than one answer carries ({MAX_FILE_CHUNK:,}): request "
                f"it in parts with a 'Range: bytes=0-{MAX_FILE_CHUNK - 1}' header (video players do).",
                details={"size": size, "max_chunk": MAX_FILE_CHUNK},
            )
        data, _ = p.blobs.read_range(key, 0, None)
        return Response(status_code=200, content_type=mime, body=data, headers=headers)
    found = _RANGE.fullmatch(wanted.strip())
    if not found or found.groups() == ("", ""):
        raise InvalidInput(
            "The Range header must be 'bytes=start-end' (one range).", details={"field": "range"}
        )
    first, last = found.groups()
    try:
        if first:
            start = int(first)
            end = start + MAX_FILE_CHUNK - 1 if not last else min(int(last), start + MAX_FILE_CHUNK - 1)
            if end < start:
                raise InvalidInput("The Range header's end is before its start.", details={"field": "range"})
            data, total = p.blobs.read_range(key, start, end)
        else:  # bytes=-N: the last N bytes
            size = p.blobs.size(key) or 0
            start = max(0, size - min(int(last), MAX_FILE_CHUNK))
            data, total = p.blobs.read_range(key, start, None)
    except RangeNotSatisfiable as exc:
        headers["Content-Range"] = f"bytes */{exc.size}"
        return Response(status_code=416, content_type=mime, body=b"", headers=headers)
    headers["Content-Range"] = f"bytes {start}-{start + len(data) - 1}/{total}"
    return Response(status_code=206, content_type=mime, body=data, headers=headers)

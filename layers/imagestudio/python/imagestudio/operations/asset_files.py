"""An asset's files in S3: its original and its WebP thumbnail, under assets/{owner}/{asset_id}/."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from imagestudio.imaging.verify import Thumbnail, VerifiedImage, make_thumbnail
from imagestudio.ports import Ports
from imagestudio.store.blobs import asset_key


@dataclass(frozen=True)
class AssetFiles:
    key: str
    thumbnail_key: str
    thumbnail: Thumbnail


def store_asset_files(
    ports: Ports,
    owner: str,
    asset_id: str,
    *,
    data: bytes,
    mime: str,
    extension: str,
    pixels: bytes | VerifiedImage | Image.Image,
) -> AssetFiles:
    """Store the original (`data`) and a thumbnail made from `pixels` (the image, or a poster frame)."""
    key = asset_key(owner, asset_id, f"original.{extension}")
    ports.blobs.put(key, data, mime)
    thumb = make_thumbnail(pixels)
    thumb_key = asset_key(owner, asset_id, "thumb.webp")
    ports.blobs.put(thumb_key, thumb.data, thumb.mime)
    return AssetFiles(key=key, thumbnail_key=thumb_key, thumbnail=thumb)

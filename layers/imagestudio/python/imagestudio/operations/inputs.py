"""An operation's input image: inline (base64 or data URL), an asset of the caller's, or an upload of
the caller's once it is ready. Every later operation takes its images through here."""

from __future__ import annotations

from dataclasses import dataclass

from imagestudio.errors import InvalidInput
from imagestudio.imaging.inline import decode_inline_image
from imagestudio.imaging.verify import VerifiedImage, verify_image
from imagestudio.models.records import Asset
from imagestudio.ports import Ports

MAX_INPUT_BYTES = 25 * 1024 * 1024


@dataclass(frozen=True)
class InputImage:
    image: VerifiedImage
    asset: Asset | None  # the stored asset it came from (the parent of what the operation makes)
    source: str  # "inline" | "asset" | "upload"


def resolve_input_image(
    ports: Ports,
    owner: str,
    *,
    image: str | None = None,
    asset_id: str | None = None,
    upload_id: str | None = None,
    field: str = "image",
) -> InputImage:
    given = [
        name for name, value in (("image", image), ("asset_id", asset_id), ("upload_id", upload_id)) if value
    ]
    if len(given) != 1:
        raise InvalidInput(
            f"Give the {field} exactly one way: 'image' (base64 or a data URL), 'asset_id' or 'upload_id'"
            + (f"; got {', '.join(given)}." if given else "; got none."),
            details={"field": field, "given": given},
        )
    if image:
        return InputImage(image=verify_image(decode_inline_image(image)), asset=None, source="inline")
    if upload_id:
        upload = ports.uploads.get(owner, upload_id)
        if upload.status != "ready" or not upload.asset_id:
            reason = f": {upload.reason}" if upload.reason else ""
            raise InvalidInput(
                f"Upload {upload_id} is {upload.status}{reason}; "
                f"use it once GET uploads/{upload_id} says ready.",
                details={"field": "upload_id", "status": upload.status},
            )
        asset_id = upload.asset_id
    assert asset_id is not None
    asset = ports.assets.get(owner, asset_id)
    if asset.type != "image":
        raise InvalidInput(
            f"Asset {asset_id} is a {asset.type}, not an image.", details={"field": "asset_id"}
        )
    verified = verify_image(ports.blobs.get(asset.key, max_bytes=MAX_INPUT_BYTES), max_bytes=MAX_INPUT_BYTES)
    return InputImage(image=verified, asset=asset, source="upload" if upload_id else "asset")

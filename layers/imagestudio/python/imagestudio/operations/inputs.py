"""An operation's input image: inline (base64 or data URL), an asset of the caller's, or an upload of
the caller's once it is ready. Every later operation takes its images through here."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import AliasChoices, Field

from imagestudio.errors import InvalidInput
from imagestudio.imaging.inline import decode_inline_image
from imagestudio.imaging.verify import VerifiedImage, verify_image
from imagestudio.models.records import Asset
from imagestudio.models.requests import RequestModel
from imagestudio.ports import Ports
from imagestudio.providers.base import Media

if TYPE_CHECKING:
    from PIL import Image

MAX_INPUT_BYTES = 25 * 1024 * 1024


class ImageSourceRequest(RequestModel):
    """The request fields of a studio that takes one image: inline, by asset id or by upload id."""

    image: str | None = Field(
        None,
        validation_alias=AliasChoices("image", "image_base64"),
        description="The image inline: base64 or a data URL ('image_base64' is accepted too).",
    )
    asset_id: str | None = Field(None, max_length=64, description="Or: one of your assets.")
    upload_id: str | None = Field(None, max_length=64, description="Or: one of your ready uploads.")


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
    file = resolve_input_file(ports, owner, image=image, asset_id=asset_id, upload_id=upload_id, field=field)
    verified = verify_image(file.data, max_bytes=MAX_INPUT_BYTES)
    return InputImage(image=verified, asset=file.asset, source=file.source)


@dataclass(frozen=True)
class InputFile:
    """An input image's bytes as given, not yet decoded (for operations that read every format the
    imaging package reads, AVIF, HEIC and ICO included, and check sizes and bombs themselves)."""

    data: bytes
    asset: Asset | None
    source: str  # "inline" | "asset" | "upload"


def _one_way(field: str, image: str | None, asset_id: str | None, upload_id: str | None) -> None:
    given = [
        name for name, value in (("image", image), ("asset_id", asset_id), ("upload_id", upload_id)) if value
    ]
    if len(given) != 1:
        raise InvalidInput(
            f"Give the {field} exactly one way: 'image' (base64 or a data URL), 'asset_id' or 'upload_id'"
            + (f"; got {', '.join(given)}." if given else "; got none."),
            details={"field": field, "given": given},
        )


def resolve_input_file(
    ports: Ports,
    owner: str,
    *,
    image: str | None = None,
    asset_id: str | None = None,
    upload_id: str | None = None,
    field: str = "image",
) -> InputFile:
    _one_way(field, image, asset_id, upload_id)
    if image:
        return InputFile(data=decode_inline_image(image), asset=None, source="inline")
    asset = library_asset(ports, owner, asset_id=asset_id, upload_id=upload_id)
    assert asset is not None
    if asset.type != "image":
        raise InvalidInput(
            f"Asset {asset_id} is a {asset.type}, not an image.", details={"field": "asset_id"}
        )
    data = ports.blobs.get(asset.key, max_bytes=MAX_INPUT_BYTES)
    return InputFile(data=data, asset=asset, source="upload" if upload_id else "asset")


def library_asset(
    ports: Ports, owner: str, *, asset_id: str | None, upload_id: str | None, field: str = "upload_id"
) -> Asset | None:
    """The caller's asset named by id, or by an upload once it is ready; None when neither is given.
    Another user's id is a 404, like an unknown one."""
    if upload_id:
        upload = ports.uploads.get(owner, upload_id)
        if upload.status != "ready" or not upload.asset_id:
            reason = f": {upload.reason}" if upload.reason else ""
            raise InvalidInput(
                f"Upload {upload_id} is {upload.status}{reason}; "
                f"use it once GET uploads/{upload_id} says ready.",
                details={"field": field, "status": upload.status},
            )
        asset_id = upload.asset_id
    return ports.assets.get(owner, asset_id) if asset_id else None


def given(value: object) -> bool:
    return value is not None and (not isinstance(value, str) or bool(value.strip()))


def quoted(names: list[str], joiner: str = "and") -> str:
    shown = [f"'{n}'" for n in names]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} {joiner} {shown[-1]}"


def media_of(image: VerifiedImage, name: str) -> Media:
    ext = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}.get(image.mime, "img")
    return Media(
        data=image.data, mime=image.mime, width=image.width, height=image.height, filename=f"{name}.{ext}"
    )


def png_media(im: Image.Image, name: str) -> Media:
    """Pixels made here (a mask, a face crop) sent to a provider as a PNG."""
    out = io.BytesIO()
    im.save(out, "PNG")
    return Media(
        data=out.getvalue(), mime="image/png", width=im.width, height=im.height, filename=f"{name}.png"
    )


def describe(image: InputImage) -> dict[str, Any]:
    """How an input came, for the job record (never the pixels: job records stay small)."""
    return {
        "source": image.source,
        "asset_id": image.asset.id if image.asset else None,
        "width": image.image.width,
        "height": image.image.height,
        "mime": image.image.mime,
    }


def optional_image(
    ports: Ports,
    owner: str,
    label: str,
    *,
    inline: str | None,
    asset_id: str | None,
    upload_id: str | None,
    names: tuple[str, str, str],
) -> InputImage | None:
    """A second image (mask, background, style...) given at most one way, or None if not given."""
    ways = [n for n, v in zip(names, (inline, asset_id, upload_id), strict=True) if given(v)]
    if not ways:
        return None
    if len(ways) > 1:
        raise InvalidInput(
            f"Give the {label} one way only: {quoted(list(names), 'or')}; got {', '.join(ways)}.",
            details={"field": label, "given": ways},
        )
    try:
        return resolve_input_image(
            ports,
            owner,
            image=inline or None,
            asset_id=asset_id or None,
            upload_id=upload_id or None,
            field=label,
        )
    except InvalidInput as exc:
        raise InvalidInput(f"The {label}: {exc.message}", details={**exc.details, "field": label}) from exc

"""Automatic tags on every new asset (imaging/autotag.py): colours, shape, size, format, source,
template and platform, prompt keywords. They join the asset's own tags, so search and the tag filters
find them; `metadata.auto_tags` keeps which ones were automatic."""

from __future__ import annotations

import io
import logging

from PIL import Image

from imagestudio.imaging.autotag import TagContext, Tagger, auto_tags
from imagestudio.models.records import Asset

log = logging.getLogger(__name__)


def tagged(asset: Asset, pixels: Image.Image | bytes | None, tagger: Tagger | None = None) -> Asset:
    """The asset with its automatic tags; `pixels` is the image, or its (small) thumbnail's bytes."""
    image: Image.Image | None
    if isinstance(pixels, bytes):
        try:
            image = Image.open(io.BytesIO(pixels))
            image.load()
        except Exception:  # a thumbnail that cannot be read loses only the colour tags
            log.warning("could not read pixels to tag asset %s", asset.id)
            image = None
    else:
        image = pixels
    platform = asset.metadata.get("platform")
    template = asset.metadata.get("template_id")
    ctx = TagContext(
        mime=asset.mime,
        width=asset.width,
        height=asset.height,
        bytes=asset.bytes,
        asset_type=asset.type,
        operation=asset.operation,
        source=asset.source,
        prompt=asset.prompt,
        template_id=template if isinstance(template, str) else None,
        platform=platform if isinstance(platform, str) else None,
        duration=asset.duration,
    )
    auto = auto_tags(image, ctx, tagger)
    return asset.model_copy(
        update={
            "tags": sorted(set(asset.tags) | set(auto)),
            "metadata": {**asset.metadata, "auto_tags": auto},
        }
    )

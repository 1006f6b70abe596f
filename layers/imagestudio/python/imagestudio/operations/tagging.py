"""Automatic tags on every new asset (imaging/autotag.py): colours, shape, size, format, source,
template and platform, prompt keywords. They join the asset's own tags, so search and the tag filters
find them; `metadata.auto_tags` keeps which ones were automatic."""

from __future__ import annotations

from PIL import Image

from imagestudio.imaging.autotag import TagContext, Tagger, auto_tags
from imagestudio.models.records import Asset


def tagged(asset: Asset, image: Image.Image | None, tagger: Tagger | None = None) -> Asset:
    """The asset with its automatic tags; `image` is its pixels (or its thumbnail's), None for audio."""
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

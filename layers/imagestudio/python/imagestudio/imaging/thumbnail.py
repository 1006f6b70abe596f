"""Thumbnails. The code lives in `imaging.verify`, which shares its decoding guards with it."""

from __future__ import annotations

from imagestudio.imaging.verify import THUMBNAIL_FORMATS, THUMBNAIL_MAX_SIDE, Thumbnail, make_thumbnail

__all__ = ["THUMBNAIL_FORMATS", "THUMBNAIL_MAX_SIDE", "Thumbnail", "make_thumbnail"]

"""Pillow work: verify and clean images, thumbnails, inline (base64) images. Pure: bytes in, bytes out."""

from __future__ import annotations

from imagestudio.imaging.inline import DEFAULT_INLINE_MAX_BYTES, UPLOADS_ROUTE, decode_inline_image
from imagestudio.imaging.verify import (
    ACCEPTED_FORMATS,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PIXELS,
    Thumbnail,
    VerifiedImage,
    make_thumbnail,
    output_format_for,
    sniff_format,
    verify_image,
)

__all__ = [
    "ACCEPTED_FORMATS",
    "DEFAULT_INLINE_MAX_BYTES",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PIXELS",
    "UPLOADS_ROUTE",
    "Thumbnail",
    "VerifiedImage",
    "decode_inline_image",
    "make_thumbnail",
    "output_format_for",
    "sniff_format",
    "verify_image",
]

"""Pillow helpers shared by the imaging tests: an image to bytes, and bytes back to a loaded image."""

from __future__ import annotations

import io

from PIL import Image


def encode(im: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, fmt, **params)
    return buffer.getvalue()


def opened(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im

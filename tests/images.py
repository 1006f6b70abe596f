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


def sample_photo(width: int, height: int, *, seed: int = 7) -> Image.Image:
    """A photograph-like RGB image of any size: real photos shipped by scikit-image, tiled and resampled,
    with a film-grain layer so it carries the fine noise a camera's file does (smooth upscales do not)."""
    from skimage import data

    shots = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket()]
    canvas = Image.new("RGB", (width, height))
    half_w, half_h = width // 2, height // 2
    boxes = [
        (0, 0, half_w, half_h),
        (half_w, 0, width, half_h),
        (0, half_h, half_w, height),
        (half_w, half_h, width, height),
    ]
    for shot, box in zip(shots, boxes, strict=True):
        tile = Image.fromarray(shot).convert("RGB")
        size = (box[2] - box[0], box[3] - box[1])
        scale = max(size[0] / tile.width, size[1] / tile.height)
        tile = tile.resize(
            (max(size[0], round(tile.width * scale)), max(size[1], round(tile.height * scale)))
        )
        canvas.paste(tile.crop((0, 0, *size)), box[:2])
    grain = Image.effect_noise((width, height), 12 + seed % 3).convert("RGB")
    return Image.blend(canvas, grain, 0.06)

"""How much an encoded image differs from its source: PSNR and SSIM with Pillow alone (no numpy in the layer).

- PSNR (dB) over the RGB channels, from the histogram of the absolute differences (exact). Identical
  images answer `PSNR_IDENTICAL` (we cap infinity so it stays a number in JSON).
- SSIM over the luma, with the non-overlapping 8x8 windows of Wang et al. (2004): the local means,
  variances and covariance are box averages computed by `Image.reduce` on float images, then the SSIM
  map is averaged. Large images are first reduced to at most `SSIM_MAX_SIDE` on their long side (both
  images the same way), which keeps it fast and is what a viewer at screen size sees.

Rough reading for people: SSIM >= 0.98 looks the same, 0.95..0.98 differences visible on close
inspection, below 0.90 visibly degraded. PSNR above 40 dB is near-transparent, 30..40 good, below 30 poor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from PIL import Image, ImageChops, ImageMath

PSNR_IDENTICAL: Final = 100.0
SSIM_MAX_SIDE: Final = 1024
_WINDOW: Final = 8
_C1: Final = (0.01 * 255) ** 2
_C2: Final = (0.03 * 255) ** 2


@dataclass(frozen=True)
class Fidelity:
    """PSNR in dB (100 = identical) and SSIM in -1..1 (1 = identical) of a result against its source."""

    psnr: float
    ssim: float

    @property
    def verdict(self) -> str:
        if self.ssim >= 0.98:
            return "looks the same"
        if self.ssim >= 0.95:
            return "differences visible on close inspection"
        if self.ssim >= 0.90:
            return "slightly degraded"
        return "visibly degraded"


def _rgb(im: Image.Image, background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    if im.mode == "RGB":
        return im
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", im.size, background)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return im.convert("RGB")


def psnr(reference: Image.Image, candidate: Image.Image) -> float:
    a, b = _rgb(reference), _rgb(candidate)
    if a.size != b.size:
        b = b.resize(a.size, Image.Resampling.LANCZOS)
    histogram = ImageChops.difference(a, b).histogram()
    squared = sum(count * (value % 256) ** 2 for value, count in enumerate(histogram))
    mse = squared / (a.width * a.height * 3)
    if mse == 0:
        return PSNR_IDENTICAL
    return min(PSNR_IDENTICAL, 10 * math.log10(255 * 255 / mse))


def _luma(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    gray = _rgb(im).convert("L")
    if gray.size != size:
        gray = gray.resize(size, Image.Resampling.BOX)
    # whole windows only
    w, h = (size[0] // _WINDOW) * _WINDOW, (size[1] // _WINDOW) * _WINDOW
    return gray.crop((0, 0, w, h)).convert("F")


def ssim(reference: Image.Image, candidate: Image.Image) -> float:
    w, h = reference.size
    scale = min(1.0, SSIM_MAX_SIDE / max(w, h))
    size = (max(_WINDOW, round(w * scale)), max(_WINDOW, round(h * scale)))
    x, y = _luma(reference, size), _luma(candidate, size)

    def mean(im: Image.Image) -> Image.Image:
        return im.reduce(_WINDOW)

    mx, my = mean(x), mean(y)
    xx = mean(ImageMath.lambda_eval(lambda d: d["a"] * d["a"], a=x))
    yy = mean(ImageMath.lambda_eval(lambda d: d["a"] * d["a"], a=y))
    xy = mean(ImageMath.lambda_eval(lambda d: d["a"] * d["b"], a=x, b=y))
    ssim_map = ImageMath.lambda_eval(
        lambda d: (
            (2 * d["mx"] * d["my"] + _C1)
            * (2 * (d["xy"] - d["mx"] * d["my"]) + _C2)
            / (
                (d["mx"] * d["mx"] + d["my"] * d["my"] + _C1)
                * (d["xx"] - d["mx"] * d["mx"] + d["yy"] - d["my"] * d["my"] + _C2)
            )
        ),
        mx=mx,
        my=my,
        xx=xx,
        yy=yy,
        xy=xy,
    )
    assert isinstance(ssim_map, Image.Image)
    average = ssim_map.reduce(ssim_map.size).getpixel((0, 0))
    assert isinstance(average, float)
    return max(-1.0, min(1.0, average))


def measure(reference: Image.Image, candidate: Image.Image) -> Fidelity:
    """PSNR and SSIM of `candidate` against `reference` (resized to the reference's size if it differs)."""
    if candidate.size != reference.size:
        reference = _rgb(reference).resize(candidate.size, Image.Resampling.LANCZOS)
    return Fidelity(psnr=round(psnr(reference, candidate), 2), ssim=round(ssim(reference, candidate), 4))

"""Fit a requested image size to what a model accepts. Pure arithmetic: no I/O, no Pillow.

Models take bounded sizes: a longest side, a pixel budget (most and least), a multiple of 8 or 16,
or only a fixed list of sizes or aspect ratios. `nearest_accepted_size` picks what to send: the
accepted size nearest to the request *with the same aspect ratio*, as near as rounding to the
multiple allows, scaling down to fit a maximum and up to reach a minimum. `nearest_aspect_ratio`
picks the closest label when a model only takes ratios ("16:9").

The contract with the caller: an adapter that sends a size (or ratio) other than the one asked for
records the request in `Output.extra` as `requested_width` / `requested_height` (and what it sent
as `sent_width` / `sent_height` or `sent_aspect_ratio`). The caller then cover-crops the result to
the requested aspect ratio and resamples it to exactly the requested size; a provider never decides
the size of what we store.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from imagestudio.catalog.models import parse_aspect_ratio


def _ratio_distance(a: float, b: float) -> float:
    """How far apart two aspect ratios are, symmetric for portrait and landscape: |ln(a / b)|."""
    return abs(math.log(a / b))


def nearest_aspect_ratio(width: int, height: int, ratios: Iterable[str]) -> str:
    """The label in `ratios` closest to width:height (ties go to the first listed)."""
    _check(width, height)
    labels = list(ratios)
    if not labels:
        raise ValueError("no aspect ratios to choose from")
    wanted = width / height
    return min(labels, key=lambda label: _ratio_distance(parse_aspect_ratio(label), wanted))


def nearest_accepted_size(
    width: int,
    height: int,
    *,
    max_side: int | None = None,
    min_side: int | None = None,
    max_pixels: int | None = None,
    min_pixels: int | None = None,
    multiple: int = 8,
    allowed: Sequence[tuple[int, int]] | None = None,
) -> tuple[int, int]:
    """The accepted (width, height) nearest to the request with the same aspect ratio.

    With `allowed`, the listed size with the closest aspect ratio wins, then the closest pixel count.
    Otherwise the request is scaled (down to fit `max_side` / `max_pixels`, up to reach `min_side` /
    `min_pixels`, never otherwise) and each side rounded to `multiple`, choosing among the rounding
    candidates the one that stays within the bounds with the closest ratio, then the closest area.
    A request that already fits and is a multiple comes back unchanged.
    """
    _check(width, height)
    wanted = width / height
    if allowed:
        return min(
            allowed,
            key=lambda size: (
                round(_ratio_distance(size[0] / size[1], wanted), 9),
                abs(math.log(size[0] * size[1] / (width * height))),
            ),
        )
    if multiple < 1:
        raise ValueError("multiple must be at least 1")

    scale = 1.0
    if max_side is not None:
        scale = min(scale, max_side / max(width, height))
    if max_pixels is not None:
        scale = min(scale, math.sqrt(max_pixels / (width * height)))
    if min_side is not None:
        scale = max(scale, min_side / min(width, height))
    if min_pixels is not None:
        scale = max(scale, math.sqrt(min_pixels / (width * height)))
    target_w, target_h = width * scale, height * scale

    def fits(w: int, h: int) -> bool:
        if max_side is not None and max(w, h) > max_side:
            return False
        if min_side is not None and min(w, h) < min_side:
            return False
        if max_pixels is not None and w * h > max_pixels:
            return False
        return not (min_pixels is not None and w * h < min_pixels)

    widths = _roundings(target_w, multiple)
    heights = _roundings(target_h, multiple)
    candidates = [(w, h) for w in widths for h in heights]
    fitting = [c for c in candidates if fits(*c)] or candidates  # bounds that cannot all hold: stay close
    return min(
        fitting,
        key=lambda c: (
            round(_ratio_distance(c[0] / c[1], wanted), 9),
            abs(c[0] * c[1] - target_w * target_h),
        ),
    )


def _roundings(value: float, multiple: int) -> list[int]:
    low = max(multiple, math.floor(value / multiple) * multiple)
    high = max(multiple, math.ceil(value / multiple) * multiple)
    return sorted({low, high})


def _check(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise ValueError(f"a size must be positive, not {width}x{height}")

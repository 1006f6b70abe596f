"""Where a Social Optimizer crop goes: the output's aspect ratio, as large as the picture allows,
placed so the subject (or its core, on thin banners) lies inside the crop and, where it fits, inside
the output's safe zone. Pure geometry on boxes (left, top, right, bottom) in source pixels."""

from __future__ import annotations

from typing import Final, Literal, get_args

Mode = Literal["smart", "center", "fit"]
MODES: Final[tuple[str, ...]] = get_args(Mode)
Box = tuple[float, float, float, float]  # left, top, right, bottom
SafeFractions = tuple[float, float, float, float]  # top, bottom, left, right: fractions of the output
_EPS: Final = 1e-6


def cover_box(src_size: tuple[int, int], out_size: tuple[int, int]) -> Box:
    """The largest centred box of the output's aspect ratio inside the source (source pixels)."""
    width, height = _crop_size(src_size, out_size)
    sw, sh = src_size
    return (sw - width) / 2, (sh - height) / 2, (sw + width) / 2, (sh + height) / 2


def _crop_size(src_size: tuple[int, int], out_size: tuple[int, int]) -> tuple[float, float]:
    sw, sh = src_size
    ow, oh = out_size
    if sw * oh > sh * ow:  # the source is wider than the output: full height
        return sh * ow / oh, float(sh)
    return float(sw), sw * oh / ow


def clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def _place(
    length: float,
    crop: float,
    subject: tuple[float, float],
    core: tuple[float, float],
    margins: tuple[float, float],
    anchor: float,
) -> float:
    """The crop's start on one axis. The first of these that a crop of this size can do, as near as
    it can to centring the subject (or, from the third on, the core) in the crop's safe span:
    the subject inside the safe span; the core inside it and the subject inside the crop; the core
    inside the safe span; the subject inside the crop (with the core as near the safe span as that
    allows: a face kept out of the UI's way before the shoulders are centred); the core inside the
    crop. Else (a banner thinner than the core) the crop is centred on `anchor`, the core's most
    salient point."""
    room = length - crop
    if room <= _EPS:
        return 0.0
    a, b = subject
    c0, c1 = core
    m0, m1 = margins
    span = crop - m0 - m1

    def centring(lo: float, hi: float) -> float:
        return (lo + hi) / 2 - m0 - span / 2

    safe_subject = (b - crop + m1, a - m0)
    in_crop = (b - crop, a)
    safe_core = (c1 - crop + m1, c0 - m0)
    core_in_crop = (c1 - crop, c0)
    choices = (
        (safe_subject, centring(a, b)),
        ((max(safe_core[0], in_crop[0]), min(safe_core[1], in_crop[1])), centring(a, b)),
        (safe_core, centring(c0, c1)),
        (in_crop, centring(c0, c1)),
        (core_in_crop, centring(c0, c1)),
    )
    for (low, high), ideal in choices:
        low, high = max(low, 0.0), min(high, room)
        if low <= high + _EPS:
            return clamp(ideal, low, max(low, high))
    return clamp(anchor - m0 - span / 2, 0.0, room)


def plan_crop(
    src_size: tuple[int, int],
    out_size: tuple[int, int],
    subject_box: Box | None = None,
    safe_zone: SafeFractions | None = None,
    focal: tuple[float, float] | None = None,
    mode: str = "smart",
    *,
    centroid: tuple[float, float] | None = None,
    core: Box | None = None,
) -> Box:
    """The crop (left, top, right, bottom, in source pixels, fractional) of the output's aspect ratio,
    as large as the source allows.

    - "center": centred;
    - "smart" with a `focal` point (0..1 of the source): the point at the middle of the crop's safe zone
      (the middle of the crop when there is none), clamped to the source;
    - "smart" with a `subject_box` (0..1 of the source): the subject inside the crop and, where it fits,
      inside the crop's safe zone (`safe_zone`: top, bottom, left, right fractions of the output),
      centred in it as far as the source allows; where the subject cannot fit, its `core` (0..1, the
      faces or the densest saliency; default: the box) is kept inside the safe zone or at least the
      crop; a crop thinner than the core is centred on the `centroid` (default: the core's centre);
    - "smart" with neither: centred;
    - "fit": the whole source (nothing is cropped).
    """
    sw, sh = src_size
    if mode == "fit":
        return 0.0, 0.0, float(sw), float(sh)
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    cw, ch = _crop_size(src_size, out_size)
    if mode == "center" or (focal is None and subject_box is None):
        return cover_box(src_size, out_size)
    top, bottom, left, right = safe_zone or (0.0, 0.0, 0.0, 0.0)
    if focal is not None:  # at the middle of the safe span: a Story's UI covers more at the top
        x = clamp(focal[0] * sw - cw * (1 + left - right) / 2, 0.0, sw - cw)
        y = clamp(focal[1] * sh - ch * (1 + top - bottom) / 2, 0.0, sh - ch)
        return x, y, x + cw, y + ch
    assert subject_box is not None
    bx0, by0, bx1, by1 = subject_box
    kx0, ky0, kx1, ky1 = core if core is not None else subject_box
    ax, ay = centroid if centroid is not None else ((kx0 + kx1) / 2, (ky0 + ky1) / 2)
    x = _place(sw, cw, (bx0 * sw, bx1 * sw), (kx0 * sw, kx1 * sw), (cw * left, cw * right), ax * sw)
    y = _place(sh, ch, (by0 * sh, by1 * sh), (ky0 * sh, ky1 * sh), (ch * top, ch * bottom), ay * sh)
    return x, y, x + cw, y + ch

"""Where the subject of a picture is, without a model: a saliency map from cheap cues, and its box.

Everything runs on a thumbnail of at most `THUMB_SIDE` pixels a side, so it costs a few milliseconds
whatever the size of the image. Three cues, each 0..255:

- edge energy: the grey thumbnail's edges (Pillow's FIND_EDGES, both polarities), locally averaged:
  objects have outlines and texture, smooth backgrounds do not;
- colour contrast against the background: the background is modelled by the mean colours of twelve
  segments of the thumbnail's border, and every pixel scores its distance to the nearest of them;
- skin-tone likelihood: a soft YCbCr range test (Cb 77..127, Cr 133..173, not too dark), counted
  only where the pixel also stands out from the background (a beige wall is not a face).

They are combined with weights, multiplied by a mild centre prior, and thresholded (Otsu, with a
floor relative to the strongest response). The salient pixels are grouped into connected regions on a
coarse grid; the regions that carry a fair share of the mass make the subject, whose box is refined
on the thumbnail and widened by a small margin. A picture in which nothing stands out has no subject.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Final

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageMath, ImageStat

THUMB_SIDE: Final = 256
GRID_SIDE: Final = 64
BORDER_FRACTION: Final = 0.06  # the outer ring of the thumbnail taken as background
MARGIN_FRACTION: Final = 0.015  # the box is widened by this fraction of each side of the picture
MIN_PEAK: Final = 40  # a saliency map whose 99.5th percentile is under this has no subject
KEEP_SHARE: Final = 0.3  # regions with at least this share of the largest region's mass are kept

WEIGHT_EDGES: Final = 0.35
WEIGHT_CONTRAST: Final = 0.45
WEIGHT_SKIN: Final = 0.45


@dataclass(frozen=True)
class Subject:
    """The salient part of a picture, in 0..1 coordinates of its width and height."""

    box: tuple[float, float, float, float]  # left, top, right, bottom
    centroid: tuple[float, float]  # x, y: the saliency-weighted centre
    score: float  # 0..1: the share of the whole map's saliency that lies in the subject's regions

    def pixels(self, width: int, height: int) -> tuple[float, float, float, float]:
        """The box in pixels of a width x height picture (left, top, right, bottom)."""
        left, top, right, bottom = self.box
        return left * width, top * height, right * width, bottom * height


# ---------------------------------------------------------------------------------------------------------
# The cues


def _ramp_lut(low: int, high: int, ramp: int) -> list[int]:
    """A trapezoid: 255 inside low..high, falling linearly to 0 over `ramp` values on each side."""
    lut = []
    for v in range(256):
        if low <= v <= high:
            lut.append(255)
        elif low - ramp < v < low:
            lut.append(round(255 * (v - (low - ramp)) / ramp))
        elif high < v < high + ramp:
            lut.append(round(255 * ((high + ramp) - v) / ramp))
        else:
            lut.append(0)
    return lut


_CB_LUT: Final = _ramp_lut(77, 127, 10)
_CR_LUT: Final = _ramp_lut(133, 173, 10)
_Y_LUT: Final = _ramp_lut(45, 255, 20)
_EDGE_GAIN: Final = [min(255, v * 3) for v in range(256)]
_CONTRAST_GAIN: Final = [min(255, v * 3) for v in range(256)]


def saliency_thumbnail(image: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    """An RGB thumbnail of at most THUMB_SIDE a side, and its alpha channel when it has transparency."""
    width, height = image.size
    factor = max(1, max(width, height) // (THUMB_SIDE * 2))
    small = image.reduce(factor) if factor > 1 else image
    scale = min(1.0, THUMB_SIDE / max(small.size))
    size = (max(1, round(small.width * scale)), max(1, round(small.height * scale)))
    if size != small.size:
        small = small.resize(size, Image.Resampling.BOX)
    alpha: Image.Image | None = None
    if small.mode in ("RGBA", "LA"):
        alpha = small.getchannel("A")
        low, _high = alpha.getextrema()
        if isinstance(low, int | float) and low >= 255:
            alpha = None
        rgba = small.convert("RGBA")
        flat = Image.new("RGB", small.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        small = flat
    elif small.mode != "RGB":
        small = small.convert("RGB")
    return small, alpha


def _edge_energy(grey: Image.Image) -> Image.Image:
    edges = ImageChops.lighter(
        grey.filter(ImageFilter.FIND_EDGES), ImageChops.invert(grey).filter(ImageFilter.FIND_EDGES)
    )
    # Pillow leaves a 3x3 filter's outer pixels as they were: they are no edges
    width, height = edges.size
    draw = ImageDraw.Draw(edges)
    draw.rectangle((0, 0, width - 1, height - 1), outline=0, width=min(2, width, height))
    return edges.filter(ImageFilter.BoxBlur(2)).point(_EDGE_GAIN)


def _border_colours(rgb: Image.Image) -> list[tuple[int, int, int]]:
    width, height = rgb.size
    ring = max(1, round(BORDER_FRACTION * min(width, height)))
    thirds_x = [0, width // 3, 2 * width // 3, width]
    thirds_y = [0, height // 3, 2 * height // 3, height]
    boxes: list[tuple[int, int, int, int]] = []
    for i in range(3):
        x0, x1 = thirds_x[i], max(thirds_x[i + 1], thirds_x[i] + 1)
        y0, y1 = thirds_y[i], max(thirds_y[i + 1], thirds_y[i] + 1)
        boxes += [(x0, 0, x1, ring), (x0, height - ring, x1, height)]  # top and bottom
        boxes += [(0, y0, ring, y1), (width - ring, y0, width, y1)]  # left and right
    colours: list[tuple[int, int, int]] = []
    for box in boxes:
        mean = ImageStat.Stat(rgb.crop(box)).mean
        colour = (round(mean[0]), round(mean[1]), round(mean[2]))
        if colour not in colours:
            colours.append(colour)
    return colours


def _colour_contrast(rgb: Image.Image) -> Image.Image:
    """Each pixel's mean absolute RGB distance to the nearest background colour, amplified."""
    soft = rgb.filter(ImageFilter.GaussianBlur(1))
    nearest: Image.Image | None = None
    for colour in _border_colours(soft):
        diff = ImageChops.difference(soft, Image.new("RGB", soft.size, colour))
        distance = diff.convert("L", (1 / 3, 1 / 3, 1 / 3, 0))
        nearest = distance if nearest is None else ImageChops.darker(nearest, distance)
    assert nearest is not None
    return nearest.point(_CONTRAST_GAIN)


def _skin(rgb: Image.Image) -> Image.Image:
    y, cb, cr = rgb.convert("YCbCr").split()
    likely = ImageChops.multiply(cb.point(_CB_LUT), cr.point(_CR_LUT))
    return ImageChops.multiply(likely, y.point(_Y_LUT)).filter(ImageFilter.BoxBlur(1))


def _centre_prior(size: tuple[int, int]) -> Image.Image:
    """1.0 (255) at the centre falling to about 0.6 at the middle of the sides."""
    radial = Image.radial_gradient("L").resize(size, Image.Resampling.BILINEAR)
    return radial.point([255 - (v * 2) // 5 for v in range(256)])


def saliency_map(image: Image.Image) -> Image.Image:
    """The saliency of `image` on a thumbnail of at most THUMB_SIDE a side ("L", 0..255)."""
    rgb, alpha = saliency_thumbnail(image)
    edges = _edge_energy(rgb.convert("L"))
    contrast = _colour_contrast(rgb)
    skin = ImageChops.multiply(_skin(rgb), contrast)
    combined = ImageMath.lambda_eval(
        lambda a: a["e"] * WEIGHT_EDGES + a["c"] * WEIGHT_CONTRAST + a["k"] * WEIGHT_SKIN,
        e=edges.convert("F"),
        c=contrast.convert("F"),
        k=skin.convert("F"),
    )
    assert isinstance(combined, Image.Image)
    saliency = combined.convert("L")
    if alpha is not None:  # transparent pixels are background; the opaque shape is a subject by itself
        saliency = ImageChops.add(ImageChops.multiply(saliency, alpha), alpha, scale=2.0)
    saliency = ImageChops.multiply(saliency, _centre_prior(saliency.size))
    return saliency.filter(ImageFilter.BoxBlur(1))


# ---------------------------------------------------------------------------------------------------------
# From the map to a box


def _percentile(hist: list[int], fraction: float) -> int:
    total = sum(hist)
    target = fraction * total
    running = 0
    for value, count in enumerate(hist):
        running += count
        if running >= target:
            return value
    return 255


def _otsu(hist: list[int]) -> int:
    total = sum(hist)
    sum_all = sum(v * c for v, c in enumerate(hist))
    weight_b = 0
    sum_b = 0.0
    best, best_var = 0, -1.0
    for v in range(256):
        weight_b += hist[v]
        if weight_b == 0:
            continue
        weight_f = total - weight_b
        if weight_f == 0:
            break
        sum_b += v * hist[v]
        mean_b = sum_b / weight_b
        mean_f = (sum_all - sum_b) / weight_f
        between = weight_b * weight_f * (mean_b - mean_f) ** 2
        if between > best_var:
            best, best_var = v, between
    return best


def _regions(on: list[bool], width: int, height: int) -> list[list[int]]:
    """Connected groups (8-neighbourhood) of the `on` cells of a width x height grid, as cell indexes."""
    seen = [False] * len(on)
    groups: list[list[int]] = []
    for start, is_on in enumerate(on):
        if not is_on or seen[start]:
            continue
        seen[start] = True
        queue = deque([start])
        group: list[int] = []
        while queue:
            cell = queue.popleft()
            group.append(cell)
            cx, cy = cell % width, cell // width
            for ny in range(max(0, cy - 1), min(height, cy + 2)):
                for nx in range(max(0, cx - 1), min(width, cx + 2)):
                    other = ny * width + nx
                    if on[other] and not seen[other]:
                        seen[other] = True
                        queue.append(other)
        groups.append(group)
    return groups


def subject_from_map(saliency: Image.Image) -> Subject | None:
    """The subject of a saliency map ("L"), or None when nothing in it stands out."""
    width, height = saliency.size
    hist = saliency.histogram()
    peak = _percentile(hist, 0.995)
    if peak < MIN_PEAK:
        return None
    threshold = max(_otsu(hist) + 1, round(0.3 * peak))
    kept = saliency.point([v if v >= threshold else 0 for v in range(256)])
    mask = saliency.point([255 if v >= threshold else 0 for v in range(256)])

    grid_w = max(1, min(GRID_SIDE, width) if width >= height else round(GRID_SIDE * width / height))
    grid_h = max(1, min(GRID_SIDE, height) if height >= width else round(GRID_SIDE * height / width))
    grid_w, grid_h = min(grid_w, width), min(grid_h, height)
    coverage = list(mask.resize((grid_w, grid_h), Image.Resampling.BOX).tobytes())
    mass = list(kept.resize((grid_w, grid_h), Image.Resampling.BOX).tobytes())
    on = [c >= 64 for c in coverage]  # a quarter of the cell is salient
    groups = _regions(on, grid_w, grid_h)
    if not groups:
        return None
    masses = [sum(mass[c] for c in group) for group in groups]
    largest = max(masses)
    cells = [c for group, m in zip(groups, masses, strict=True) if m >= KEEP_SHARE * largest for c in group]

    # the kept cells' bounds, one cell wider, then the salient pixels' own bounds inside them
    gx0 = max(0, min(c % grid_w for c in cells) - 1)
    gx1 = min(grid_w, max(c % grid_w for c in cells) + 2)
    gy0 = max(0, min(c // grid_w for c in cells) - 1)
    gy1 = min(grid_h, max(c // grid_w for c in cells) + 2)
    region = (
        gx0 * width // grid_w,
        gy0 * height // grid_h,
        -(-gx1 * width // grid_w),
        -(-gy1 * height // grid_h),
    )
    inner = mask.crop(region).getbbox()
    if inner is None:
        return None
    left, top = region[0] + inner[0], region[1] + inner[1]
    right, bottom = region[0] + inner[2], region[1] + inner[3]
    margin_x, margin_y = MARGIN_FRACTION * width, MARGIN_FRACTION * height
    box = (
        max(0.0, (left - margin_x) / width),
        max(0.0, (top - margin_y) / height),
        min(1.0, (right + margin_x) / width),
        min(1.0, (bottom + margin_y) / height),
    )

    total_mass = sum(mass) or 1
    kept_mass = sum(mass[c] for c in cells) or 1
    cx = sum(((c % grid_w) + 0.5) * mass[c] for c in cells) / kept_mass / grid_w
    cy = sum(((c // grid_w) + 0.5) * mass[c] for c in cells) / kept_mass / grid_h
    centroid = (min(max(cx, box[0]), box[2]), min(max(cy, box[1]), box[3]))
    return Subject(box=box, centroid=centroid, score=round(min(1.0, kept_mass / total_mass), 3))


def detect_subject(image: Image.Image) -> Subject | None:
    """The subject of `image` (any size, RGB or RGBA), or None when nothing stands out."""
    return subject_from_map(saliency_map(image))

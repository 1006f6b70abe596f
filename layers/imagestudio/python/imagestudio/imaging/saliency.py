"""Where the subject of a picture is, without a model: a saliency map from cheap cues, and its box.

Everything runs on a thumbnail of at most `THUMB_SIDE` pixels a side, so it costs a few milliseconds
whatever the size of the image. The cues, each 0..255, in CIELAB (so a red disc on a grey gradient
is as different as it looks):

- centre-surround contrast: each channel blurred a little minus blurred a lot, at two scales: an
  object differs from what is around it; a gradient or a long straight edge between two flat areas
  answers only along a thin band;
- distinctness: each channel's distance from the picture's mean (colour that stands out overall);
- edge energy (Pillow's FIND_EDGES, locally averaged), lightly weighted: texture and outlines;
- skin-tone likelihood (a soft YCbCr range test), counted only where the pixel also stands out
  (a beige wall is not a face).

They are combined with weights, multiplied by a mild centre prior and thresholded (Otsu, with a floor
relative to the strongest response). Salient pixels are grouped into connected regions on a coarse
grid. The subject is the region with the most saliency, a region that runs from one side of the
picture to the opposite one counting a third (a horizon, a wall's edge, a pole), plus the regions
near it with a fair share of its mass. A picture in which nothing stands out has no subject, and
neither has one whose saliency is spread all over it (the densest part holding 70% of it covers 70% of
the picture or more: a motorcycle in a cluttered garage): a plain centre crop serves it better than a
crop pulled towards the clutter.

Its `core`, the part a crop too small for the whole subject is centred on, is the part of the subject
whose colour stands out most from the subject's own (the median colour of its box): a cat's green
eyes and pink nose in its fur, not the stripes of its forehead, which saliency alone rates as high.

The box then grows to the whole object the core belongs to: what stands apart from the picture's
background and touches the core (the suit under the astronaut's face). The background is what the
border reaches through similar colours (`background_distance`, a geodesic colour distance on a coarse
grid), so a textured table or a cluttered wall is background however much it contrasts, and an object
has to be entered across its outline. It only widens the box: the core stays as found.

Faces count most: `subject_with_faces` makes the faces found by `imaging.faces` the core and the head
and shoulders the subject, grown the same way to the person (people look at faces first).
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageMath, ImageStat

if TYPE_CHECKING:
    from imagestudio.imaging.faces import FaceBox

THUMB_SIDE: Final = 256
GRID_SIDE: Final = 64
BORDER_FRACTION: Final = 0.06  # the outer ring of the thumbnail taken as background
MARGIN_FRACTION: Final = 0.015  # the box is widened by this fraction of each side of the picture
MIN_PEAK: Final = 40  # a saliency map whose 99.5th percentile is under this has no subject
THRESHOLD_FLOOR: Final = 0.6  # salient: at least Otsu's threshold and this share of that percentile
KEEP_SHARE: Final = 0.4  # regions with at least this share of the main region's mass are kept...
KEEP_DISTANCE: Final = 0.12  # ...when this close to it (a fraction of the picture's diagonal)
SPANNING_WEIGHT: Final = 1 / 3  # a region from one side of the picture to the opposite one
CORE_SHARE: Final = 0.7  # the core: the densest cells holding this share of the subject's mass
DIFFUSE_CORE: Final = 0.7  # a core this share of the picture's area or more: no subject (a centre crop)
DISTINCT_POWER: Final = 0.6  # the core's colour distinctness is flattened by this power (0.5-0.8 alike)

WEIGHT_CENTRE_SURROUND: Final = 0.5
WEIGHT_DISTINCT: Final = 0.3
WEIGHT_EDGES: Final = 0.15
WEIGHT_SKIN: Final = 0.4
WEIGHT_COLOUR: Final = 2.0  # a and b against L: colour differences count double
STAND_OUT_GAIN: Final = 2.0
# The background: on a grid of BACKGROUND_GRID cells a side, the cost of the cheapest path from the
# picture's border, each step costing the colour difference beyond BACKGROUND_NOISE.
BACKGROUND_GRID: Final = 40
BACKGROUND_NOISE: Final = 4.0  # CIELAB units (Pillow's 0..255 scale) a step may differ for free
BACKGROUND_SHARE: Final = 0.25  # a border cell like this share of the border starts as background...
BACKGROUND_TOLERANCE: Final = 30.0  # ...when within this colour distance of it
OBJECT_THRESHOLD: Final = 0.3  # cells this far from the background (of its 99th percentile) are objects
# Faces: the core is each face widened for hair and chin; the subject adds the head and shoulders.
FACE_MARGINS: Final = (0.15, 0.35, 0.15, 0.1)  # left, top, right, bottom: fractions of the face box
SHOULDERS: Final = (0.6, 1.2)  # sideways and downwards, in face widths and heights
FACE_SCORE_SHARE: Final = 0.4  # faces scoring under this share of the best one are dropped


@dataclass(frozen=True)
class Subject:
    """The salient part of a picture, in 0..1 coordinates of its width and height."""

    box: tuple[float, float, float, float]  # left, top, right, bottom
    centroid: tuple[float, float]  # x, y: the saliency-weighted centre of the core
    score: float  # 0..1: the share of the whole map's saliency that lies in the subject's regions
    core: tuple[float, float, float, float] | None = None  # the part to keep when the box cannot fit
    faces: int = 0  # how many faces the subject was made from

    def pixels(self, width: int, height: int) -> tuple[float, float, float, float]:
        """The box in pixels of a width x height picture (left, top, right, bottom)."""
        return _scaled(self.box, width, height)

    def core_pixels(self, width: int, height: int) -> tuple[float, float, float, float] | None:
        """The core in pixels of a width x height picture, if there is one."""
        return _scaled(self.core, width, height) if self.core is not None else None


def _scaled(box: Fractions, width: int, height: int) -> tuple[float, float, float, float]:
    left, top, right, bottom = box
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


def _stand_out(lab: Image.Image) -> Image.Image:
    """How much each pixel stands out: centre-surround contrast and distinctness, per CIELAB channel
    (a and b weighted WEIGHT_COLOUR), times STAND_OUT_GAIN (a fixed gain: a picture in which nothing
    stands out stays dark)."""
    side = min(lab.size)
    total: Image.Image | None = None
    for index, channel in enumerate(lab.split()):
        weight = 1.0 if index == 0 else WEIGHT_COLOUR
        fine = channel.filter(ImageFilter.GaussianBlur(max(1.0, side * 0.01)))
        local = channel.filter(ImageFilter.GaussianBlur(max(1.0, side * 0.02)))
        contrast = ImageChops.add(
            ImageChops.difference(fine, channel.filter(ImageFilter.GaussianBlur(side * 0.08))),
            ImageChops.difference(local, channel.filter(ImageFilter.GaussianBlur(side * 0.16))),
        )
        mean = round(ImageStat.Stat(channel).mean[0])
        distinct = ImageChops.difference(local, Image.new("L", channel.size, mean))
        term = ImageMath.lambda_eval(
            lambda m: (m["c"] * WEIGHT_CENTRE_SURROUND + m["d"] * WEIGHT_DISTINCT) * m["w"],
            c=contrast.convert("F"),
            d=distinct.convert("F"),
            w=weight,
        )
        assert isinstance(term, Image.Image)
        if total is not None:
            term = ImageMath.lambda_eval(lambda m: m["a"] + m["b"], a=total, b=term)
            assert isinstance(term, Image.Image)
        total = term
    assert total is not None
    return total.point(lambda v: v * STAND_OUT_GAIN).convert("L")  # "L" clips at 255


def _skin(rgb: Image.Image) -> Image.Image:
    y, cb, cr = rgb.convert("YCbCr").split()
    likely = ImageChops.multiply(cb.point(_CB_LUT), cr.point(_CR_LUT))
    return ImageChops.multiply(likely, y.point(_Y_LUT)).filter(ImageFilter.BoxBlur(1))


def _centre_prior(size: tuple[int, int]) -> Image.Image:
    """1.0 (255) at the centre falling to about 0.6 at the middle of the sides."""
    radial = Image.radial_gradient("L").resize(size, Image.Resampling.BILINEAR)
    return radial.point([255 - (v * 2) // 5 for v in range(256)])


def _cell_colours(lab: Image.Image, grid: tuple[int, int]) -> list[tuple[int, float, float]]:
    """The mean CIELAB colour of each cell of a `grid` (columns, rows) over `lab`, a and b weighted."""
    cells = lab.resize(grid, Image.Resampling.BOX)
    lum, a, b = (cells.getchannel(i).tobytes() for i in range(3))
    return [
        (lum[i], (a[i] - 128) * WEIGHT_COLOUR, (b[i] - 128) * WEIGHT_COLOUR) for i in range(grid[0] * grid[1])
    ]


def _grid_colours(lab: Image.Image, side: int) -> tuple[int, int, list[tuple[int, float, float]]]:
    """The mean CIELAB colour of each cell of a grid at most `side` cells a side (a, b weighted)."""
    width, height = lab.size
    scale = min(1.0, side / max(width, height))
    grid_w, grid_h = max(1, round(width * scale)), max(1, round(height * scale))
    return grid_w, grid_h, _cell_colours(lab, (grid_w, grid_h))


def background_distance(lab: Image.Image) -> Image.Image:
    """How far each pixel of a picture (its "LAB" thumbnail) is from the picture's background ("L",
    0..255, the thumbnail's size): the geodesic colour distance from the border. What the border
    reaches through similar colours (sky, a wall, a table, however textured or varied along the way)
    is background; an object, however like its surroundings in contrast, has to be entered across its
    outline. A border cell unlike most of the border (a subject cut by the frame) is no free start: it
    starts at its colour distance to the border's common colours."""
    grid_w, grid_h, colours = _grid_colours(lab, BACKGROUND_GRID)
    count = grid_w * grid_h
    border = [i for i in range(count) if i % grid_w in (0, grid_w - 1) or i // grid_w in (0, grid_h - 1)]
    edge = [colours[i] for i in border]
    rank = max(0, round(BACKGROUND_SHARE * len(border)) - 1)
    cost = [float("inf")] * count
    for i in border:
        like = sorted([math.dist(colours[i], other) for other in edge])[rank]
        cost[i] = max(0.0, like - BACKGROUND_TOLERANCE)
    queue = [(cost[i], i) for i in border]
    heapq.heapify(queue)
    while queue:  # Dijkstra from the border over the 4-neighbourhood
        reached, cell = heapq.heappop(queue)
        if reached > cost[cell]:
            continue
        x, y = cell % grid_w, cell // grid_w
        for nx, ny in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
            if 0 <= nx < grid_w and 0 <= ny < grid_h:
                other = ny * grid_w + nx
                through = reached + max(0.0, math.dist(colours[cell], colours[other]) - BACKGROUND_NOISE)
                if through < cost[other]:
                    cost[other] = through
                    heapq.heappush(queue, (through, other))
    top = sorted(cost)[int(0.99 * (count - 1))]
    grid = Image.new("L", (grid_w, grid_h))
    grid.putdata([min(255, round(255 * c / top)) if top > 0 else 0 for c in cost])
    return grid.resize(lab.size, Image.Resampling.BILINEAR)


def saliency_map(image: Image.Image) -> Image.Image:
    """The saliency of `image` on a thumbnail of at most THUMB_SIDE a side ("L", 0..255)."""
    rgb, alpha = saliency_thumbnail(image)
    return _saliency(rgb, alpha, rgb.convert("LAB"))


def _saliency(rgb: Image.Image, alpha: Image.Image | None, lab: Image.Image) -> Image.Image:
    edges = _edge_energy(rgb.convert("L"))
    stand_out = _stand_out(lab)
    skin = ImageChops.multiply(_skin(rgb), stand_out.point(_CONTRAST_GAIN))
    combined = ImageMath.lambda_eval(
        lambda a: a["s"] + a["e"] * WEIGHT_EDGES + a["k"] * WEIGHT_SKIN,
        s=stand_out.convert("F"),
        e=edges.convert("F"),
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


def _bounds(cells: Sequence[int], grid_w: int) -> tuple[int, int, int, int]:
    """Grid bounds (x0, y0, x1, y1), exclusive ends."""
    xs = [c % grid_w for c in cells]
    ys = [c // grid_w for c in cells]
    return min(xs), min(ys), max(xs) + 1, max(ys) + 1


def _gap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    dx = max(0, max(a[0], b[0]) - min(a[2], b[2]))
    dy = max(0, max(a[1], b[1]) - min(a[3], b[3]))
    return float((dx * dx + dy * dy) ** 0.5)


Fractions = tuple[float, float, float, float]  # left, top, right, bottom: 0..1 of the picture


def _grid_span(box: Fractions, grid_w: int, grid_h: int) -> tuple[int, int, int, int]:
    """The cells a box covers on a grid_w x grid_h grid: (x0, y0, x1, y1), ends exclusive, at least one
    cell each way."""
    x0, y0 = min(int(box[0] * grid_w), grid_w - 1), min(int(box[1] * grid_h), grid_h - 1)
    x1, y1 = max(x0 + 1, -int(-box[2] * grid_w)), max(y0 + 1, -int(-box[3] * grid_h))
    return x0, y0, min(x1, grid_w), min(y1, grid_h)


def _whole(part: Fractions, away: Image.Image) -> Fractions | None:
    """The bounds of what stands apart from the background in the `away` map (`background_distance`)
    and touches `part`: the whole object the part belongs to; None when nothing there stands apart."""
    width, height = away.size
    scale = min(1.0, GRID_SIDE / max(width, height))
    grid_w, grid_h = max(1, round(width * scale)), max(1, round(height * scale))
    threshold = round(255 * OBJECT_THRESHOLD)
    cells = away.resize((grid_w, grid_h), Image.Resampling.BOX).tobytes()
    groups = _regions([v >= threshold for v in cells], grid_w, grid_h)
    x0, y0, x1, y1 = _grid_span(part, grid_w, grid_h)
    touching = [
        c
        for group in groups
        if any(x0 <= c % grid_w < x1 and y0 <= c // grid_w < y1 for c in group)
        for c in group
    ]
    if not touching:
        return None
    gx0, gy0, gx1, gy1 = _bounds(touching, grid_w)
    return gx0 / grid_w, gy0 / grid_h, gx1 / grid_w, gy1 / grid_h


def _union(a: Fractions, b: Fractions | None) -> Fractions:
    if b is None:
        return a
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _within(inner: Fractions, outer: Fractions) -> Fractions:
    return max(inner[0], outer[0]), max(inner[1], outer[1]), min(inner[2], outer[2]), min(inner[3], outer[3])


def _densest(cells: Sequence[int], weights: Sequence[float], grid_w: int, grid_h: int) -> list[int]:
    """The heaviest connected group among the densest `cells` that hold CORE_SHARE of their weight."""
    total = sum(weights[c] for c in cells) or 1
    dense: set[int] = set()
    running = 0.0
    for c in sorted(cells, key=lambda c: -weights[c]):
        dense.add(c)
        running += weights[c]
        if running >= CORE_SHARE * total:
            break
    groups = _regions([i in dense for i in range(grid_w * grid_h)], grid_w, grid_h)
    return max(groups, key=lambda g: sum(weights[c] for c in g))


def _distinctness(
    lab: Image.Image, grid: tuple[int, int], box: Fractions, mass: Sequence[int]
) -> list[float]:
    """How far each salient cell's colour (CIELAB, a and b weighted) is from the subject's own, the
    median colour of its `box`: 0..1 of the box's 95th percentile, to the power DISTINCT_POWER; 0 where
    nothing is salient (`mass`)."""
    grid_w, grid_h = grid
    colours = _cell_colours(lab, grid)
    x0, y0, x1, y1 = _grid_span(box, grid_w, grid_h)
    inside = [y * grid_w + x for y in range(y0, y1) for x in range(x0, x1)]
    own = tuple(sorted(colours[i][k] for i in inside)[len(inside) // 2] for k in range(3))
    far = [math.dist(c, own) for c in colours]
    top = sorted(far[i] for i in inside)
    scale = top[int(0.95 * (len(top) - 1))] or 1.0
    return [min(1.0, d / scale) ** DISTINCT_POWER if m else 0.0 for d, m in zip(far, mass, strict=True)]


def subject_from_map(
    saliency: Image.Image, away: Image.Image | None = None, lab: Image.Image | None = None
) -> Subject | None:
    """The subject of a saliency map ("L"), or None when nothing in it stands out. Given the picture's
    `background_distance` (the map's size), the box grows to the whole object its core belongs to; given
    its "LAB" thumbnail (the map's size), the core is the part of the subject whose colour stands out
    from the subject's own (`_distinctness`), else the part where saliency is densest."""
    width, height = saliency.size
    hist = saliency.histogram()
    peak = _percentile(hist, 0.995)
    if peak < MIN_PEAK:
        return None
    threshold = max(_otsu(hist) + 1, round(THRESHOLD_FLOOR * peak))
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

    def weight(group: list[int]) -> float:
        x0, y0, x1, y1 = _bounds(group, grid_w)
        spans = (x0 == 0 and x1 == grid_w) or (y0 == 0 and y1 == grid_h)
        return sum(mass[c] for c in group) * (SPANNING_WEIGHT if spans else 1.0)

    weights = [weight(g) for g in groups]
    main = max(range(len(groups)), key=lambda i: weights[i])
    main_bounds = _bounds(groups[main], grid_w)
    near = KEEP_DISTANCE * (grid_w * grid_w + grid_h * grid_h) ** 0.5
    cells = [
        c
        for i, group in enumerate(groups)
        if i == main
        or (weights[i] >= KEEP_SHARE * weights[main] and _gap(_bounds(group, grid_w), main_bounds) <= near)
        for c in group
    ]

    def refine(chosen: Sequence[int]) -> tuple[float, float, float, float] | None:
        """The salient pixels' bounds inside the chosen cells (one cell wider), widened by the margin."""
        gx0, gy0, gx1, gy1 = _bounds(chosen, grid_w)
        region = (
            max(0, gx0 - 1) * width // grid_w,
            max(0, gy0 - 1) * height // grid_h,
            -(-min(grid_w, gx1 + 1) * width // grid_w),
            -(-min(grid_h, gy1 + 1) * height // grid_h),
        )
        inner = mask.crop(region).getbbox()
        if inner is None:
            return None
        margin_x, margin_y = MARGIN_FRACTION * width, MARGIN_FRACTION * height
        return (
            max(0.0, (region[0] + inner[0] - margin_x) / width),
            max(0.0, (region[1] + inner[1] - margin_y) / height),
            min(1.0, (region[0] + inner[2] + margin_x) / width),
            min(1.0, (region[1] + inner[3] + margin_y) / height),
        )

    box = refine(cells)
    if box is None:
        return None
    subject_mass = sum(mass[c] for c in cells) or 1
    heaviest = _densest(cells, mass, grid_w, grid_h)
    core = _within(refine(heaviest) or box, box)
    if (core[2] - core[0]) * (core[3] - core[1]) >= DIFFUSE_CORE:
        return None  # saliency spread all over: no part of the picture stands out to crop on
    if lab is not None:  # its most salient part: where its colour stands out from its own
        heaviest = _densest(cells, _distinctness(lab, (grid_w, grid_h), box, mass), grid_w, grid_h)
        core = _within(refine(heaviest) or box, box)
    if away is not None:
        box = _union(box, _whole(core, away))

    core_mass = sum(mass[c] for c in heaviest) or 1
    cx = sum(((c % grid_w) + 0.5) * mass[c] for c in heaviest) / core_mass / grid_w
    cy = sum(((c // grid_w) + 0.5) * mass[c] for c in heaviest) / core_mass / grid_h
    centroid = (min(max(cx, core[0]), core[2]), min(max(cy, core[1]), core[3]))
    total_mass = sum(mass) or 1
    return Subject(box=box, centroid=centroid, score=round(min(1.0, subject_mass / total_mass), 3), core=core)


def subject_with_faces(faces: Sequence[FaceBox], size: tuple[int, int]) -> Subject | None:
    """The subject made of the faces found in a picture of `size` (pixels): the faces (with hair and
    chin) are the core, the head and shoulders the box; None without faces."""
    if faces:  # a cascade's weak extra hits (a patch, a fold) next to a sure face are not faces
        best_score = max(f.score for f in faces)
        faces = [f for f in faces if f.score >= FACE_SCORE_SHARE * best_score]
    if not faces:
        return None
    width, height = size
    left_m, top_m, right_m, bottom_m = FACE_MARGINS
    side, down = SHOULDERS
    core = (
        min(max(0.0, f.left - left_m * f.width) for f in faces) / width,
        min(max(0.0, f.top - top_m * f.height) for f in faces) / height,
        max(min(width, f.right + right_m * f.width) for f in faces) / width,
        max(min(height, f.bottom + bottom_m * f.height) for f in faces) / height,
    )
    box = (
        min(max(0.0, f.left - side * f.width) for f in faces) / width,
        core[1],
        max(min(width, f.right + side * f.width) for f in faces) / width,
        max(min(height, f.bottom + down * f.height) for f in faces) / height,
    )
    best = max(faces, key=lambda f: (f.score, f.area))
    centroid = (best.center[0] / width, best.center[1] / height)
    return Subject(box=box, centroid=centroid, score=1.0, core=core, faces=len(faces))


def detect_subject(image: Image.Image, faces: Sequence[FaceBox] = ()) -> Subject | None:
    """The subject of `image` (any size, RGB or RGBA): made of `faces` (boxes in `image`'s pixels, from
    `imaging.faces.detect_faces`) when there are any, else found by saliency; either way the box grows
    to the whole person or object its core belongs to. None when nothing stands out."""
    rgb, alpha = saliency_thumbnail(image)
    lab = rgb.convert("LAB")  # Pillow's own sRGB -> CIELAB
    away = background_distance(lab)
    people = subject_with_faces(faces, image.size)
    if people is None:
        return subject_from_map(_saliency(rgb, alpha, lab), away, lab)
    assert people.core is not None
    return replace(people, box=_union(people.box, _whole(people.core, away)))

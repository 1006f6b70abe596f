"""Text-to-image with Pillow: a deterministic picture from prompt, seed and style at the exact size.

The prompt's colour and scene words pick the palette (`common.COLOR_WORDS`: "red", "ocean", "sunset",
"forest"...), its other words hash to accent hues and to shapes; a few scene words add motifs (sun,
mountains, waves, trees, skyline, stars); the seed places everything. The style preset changes the
treatment (photographic: soft and vignetted; line-art: edges on white; pixel-art: chunky pixels;
anime: posterized bold colours; ...). The prompt's first words are written small in a corner.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from PIL import Image, ImageChops, ImageDraw, ImageEnhance, ImageFilter, ImageOps

from imagestudio.providers.local.common import (
    RGB,
    STOP_WORDS,
    check_size,
    colorize3,
    label,
    linear_mask,
    luminance,
    ordered_by_luminance,
    prompt_palette,
    radial_mask,
    rng_for,
    solid,
    stable_int,
    words,
)

SUN_WORDS = frozenset({"sun", "sunny", "moon", "sunset", "sunrise", "planet", "dusk"})
MOUNTAIN_WORDS = frozenset({"mountain", "mountains", "hill", "hills", "peak", "peaks", "alps", "volcano"})
WATER_WORDS = frozenset({"ocean", "sea", "water", "wave", "waves", "lake", "river", "beach", "surf"})
TREE_WORDS = frozenset({"forest", "tree", "trees", "jungle", "woods", "pine", "pines"})
CITY_WORDS = frozenset({"city", "building", "buildings", "skyline", "town", "street", "skyscraper"})
STAR_WORDS = frozenset({"star", "stars", "night", "space", "galaxy", "starry", "cosmos"})


def render(
    prompt: str,
    seed: int,
    size: tuple[int, int],
    style: str | None = None,
    negative_prompt: str | None = None,
    *,
    with_label: bool = True,
) -> Image.Image:
    """The finished RGB picture at exactly `size`."""
    check_size(*size)
    palette = prompt_palette(prompt, seed, negative_prompt)
    if style == "tile-texture" and size[0] >= 2 and size[1] >= 2:
        half = ((size[0] + 1) // 2, (size[1] + 1) // 2)
        tile = compose(prompt, seed, half, palette)
        im = Image.new("RGB", (half[0] * 2, half[1] * 2))
        im.paste(tile, (0, 0))
        im.paste(ImageOps.mirror(tile), (half[0], 0))
        im.paste(ImageOps.flip(tile), (0, half[1]))
        im.paste(ImageOps.flip(ImageOps.mirror(tile)), half)
        im = im.crop((0, 0, *size))
    else:
        im = compose(prompt, seed, size, palette)
        im = STYLES.get(style or "", _enhance)(im, palette, rng_for("style", seed, prompt, style))
    if im.size != size:  # styles keep the size; a guard, never expected
        im = im.resize(size, Image.Resampling.LANCZOS)
    return label(im, prompt) if with_label else im


# ----------------------------------------------------------------------------------------- composition


def compose(prompt: str, seed: int, size: tuple[int, int], palette: list[RGB]) -> Image.Image:
    """Gradient background, a glow, scene motifs, word shapes and a central subject."""
    w, h = size
    rng = rng_for("compose", seed, prompt)
    tokens = words(prompt)
    content = [t for t in tokens if t not in STOP_WORDS] or [f"seed{seed}"]

    first, second = palette[0], palette[1 % len(palette)]
    if sum(abs(first[k] - second[k]) for k in range(3)) < 90:  # too alike to make a gradient
        second = (
            ordered_by_luminance(palette)[0] if luminance(first) > 90 else ordered_by_luminance(palette)[-1]
        )
    im = Image.composite(solid(size, first), solid(size, second), linear_mask(size, rng.uniform(0, 360)))
    glow = radial_mask(size, (rng.uniform(0.15, 0.85), rng.uniform(0.1, 0.6)), rng.uniform(0.45, 0.9))
    im = Image.composite(solid(size, palette[2 % len(palette)]), im, glow.point(lambda v: v * 7 // 10))

    draw = ImageDraw.Draw(im, "RGBA")
    scale = min(w, h)
    tokenset = set(tokens)
    if tokenset & STAR_WORDS:
        _stars(draw, rng, size)
    if tokenset & SUN_WORDS:
        _sun(draw, rng, size, palette)
    if tokenset & MOUNTAIN_WORDS:
        _mountains(draw, rng, size, palette)
    if tokenset & CITY_WORDS:
        _skyline(draw, rng, size, palette)
    if tokenset & TREE_WORDS:
        _trees(draw, rng, size, palette)
    if tokenset & WATER_WORDS:
        _waves(draw, rng, size, palette)

    count = 5 + len(content) % 4 + rng.randint(0, 3)
    for i in range(count):
        word = content[i % len(content)]
        kind = (stable_int("shape", word) + i // len(content)) % 6
        colour = palette[(stable_int("colour", word) + i) % len(palette)]
        alpha = rng.randint(130, 225)
        cx, cy = rng.uniform(-0.05, 1.05) * w, rng.uniform(-0.05, 1.05) * h
        r = rng.uniform(0.06, 0.3) * scale
        _shape(draw, kind, (cx, cy), max(1.0, r), (*colour, alpha), rng)

    # the subject: a larger form on a third, contrasting with the background behind it
    sx = rng.choice((1 / 3, 1 / 2, 2 / 3)) * w
    sy = rng.choice((0.45, 0.55, 0.62)) * h
    behind = im.getpixel((min(w - 1, int(sx)), min(h - 1, int(sy))))
    assert isinstance(behind, tuple)
    subject = max(palette, key=lambda c: sum(abs(c[k] - int(behind[k])) for k in range(3)))
    r = rng.uniform(0.16, 0.24) * scale
    kind = stable_int("subject", content[0]) % 6
    _shape(draw, 4 if kind in (3, 5) else kind, (sx, sy), max(1.0, r), (*subject, 240), rng)
    outline = ordered_by_luminance(palette)[0]
    draw.ellipse(
        (sx - r * 0.35, sy - r * 0.35, sx + r * 0.35, sy + r * 0.35),
        fill=(*palette[(kind + 3) % len(palette)], 200),
        outline=(*outline, 220),
        width=max(1, scale // 200),
    )
    return im


def _shape(
    draw: ImageDraw.ImageDraw,
    kind: int,
    centre: tuple[float, float],
    r: float,
    fill: tuple[int, int, int, int],
    rng: random.Random,
) -> None:
    cx, cy = centre
    if kind == 0:
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
    elif kind == 1:
        a = rng.uniform(0, math.pi)
        pts = [
            (
                cx + r * math.cos(a + k * math.pi / 2) * (1.4 if k % 2 else 0.8),
                cy + r * math.sin(a + k * math.pi / 2),
            )
            for k in range(4)
        ]
        draw.polygon(pts, fill=fill)
    elif kind == 2:
        a = rng.uniform(0, 2 * math.pi)
        draw.polygon(
            [(cx + r * math.cos(a + k * 2.094), cy + r * math.sin(a + k * 2.094)) for k in range(3)],
            fill=fill,
        )
    elif kind == 3:
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=fill, width=max(1, int(r / 4)))
    elif kind == 4:
        n = rng.randint(7, 11)
        pts = [
            (
                cx + r * rng.uniform(0.7, 1.15) * math.cos(2 * math.pi * k / n),
                cy + r * rng.uniform(0.7, 1.15) * math.sin(2 * math.pi * k / n),
            )
            for k in range(n)
        ]
        draw.polygon(pts, fill=fill)
    else:
        a = rng.uniform(0, math.pi)
        dx, dy = math.cos(a) * r * 3, math.sin(a) * r * 3
        draw.line((cx - dx, cy - dy, cx + dx, cy + dy), fill=fill, width=max(1, int(r / 3)))


def _sun(draw: ImageDraw.ImageDraw, rng: random.Random, size: tuple[int, int], palette: list[RGB]) -> None:
    w, h = size
    cx, cy, r = rng.uniform(0.2, 0.8) * w, rng.uniform(0.15, 0.35) * h, rng.uniform(0.08, 0.14) * min(w, h)
    bright = ordered_by_luminance(palette)[-1]
    for k, alpha in ((2.0, 40), (1.5, 70), (1.0, 235)):
        draw.ellipse((cx - r * k, cy - r * k, cx + r * k, cy + r * k), fill=(*bright, alpha))


def _mountains(
    draw: ImageDraw.ImageDraw, rng: random.Random, size: tuple[int, int], palette: list[RGB]
) -> None:
    w, h = size
    shades = ordered_by_luminance(palette)
    for layer in range(3):
        base = h * (0.75 + 0.08 * layer)
        colour = shades[min(len(shades) - 1, layer)]
        x = -0.1 * w
        while x < w * 1.1:
            span = rng.uniform(0.2, 0.45) * w
            peak = base - rng.uniform(0.2, 0.4) * h
            draw.polygon([(x, base + h), (x + span / 2, peak), (x + span, base + h)], fill=(*colour, 230))
            x += span * 0.6


def _waves(draw: ImageDraw.ImageDraw, rng: random.Random, size: tuple[int, int], palette: list[RGB]) -> None:
    w, h = size
    for band in range(4):
        top = h * (0.62 + 0.09 * band)
        amp, period, phase = h * 0.025, w / rng.uniform(1.5, 3.5), rng.uniform(0, 6.28)
        pts = [
            (x, top + amp * math.sin(phase + 2 * math.pi * x / period))
            for x in range(0, w + 16, max(4, w // 48))
        ]
        pts += [(w, h), (0, h)]
        draw.polygon(pts, fill=(*palette[band % len(palette)], 170))


def _trees(draw: ImageDraw.ImageDraw, rng: random.Random, size: tuple[int, int], palette: list[RGB]) -> None:
    w, h = size
    dark = ordered_by_luminance(palette)[:3]
    for _ in range(rng.randint(6, 12)):
        x, base = rng.uniform(0, w), h * rng.uniform(0.8, 1.0)
        tall, wide = h * rng.uniform(0.2, 0.4), w * rng.uniform(0.03, 0.07)
        draw.rectangle((x - wide / 6, base - tall * 0.25, x + wide / 6, base), fill=(60, 40, 25, 230))
        draw.polygon(
            [(x - wide, base - tall * 0.2), (x, base - tall), (x + wide, base - tall * 0.2)],
            fill=(*rng.choice(dark), 235),
        )


def _skyline(
    draw: ImageDraw.ImageDraw, rng: random.Random, size: tuple[int, int], palette: list[RGB]
) -> None:
    w, h = size
    x = 0.0
    colour = ordered_by_luminance(palette)[0]
    while x < w:
        bw, bh = w * rng.uniform(0.05, 0.12), h * rng.uniform(0.2, 0.55)
        draw.rectangle((x, h - bh, x + bw, h), fill=(*colour, 235))
        x += bw + w * rng.uniform(0.0, 0.02)


def _stars(draw: ImageDraw.ImageDraw, rng: random.Random, size: tuple[int, int]) -> None:
    w, h = size
    r = max(1.0, min(w, h) / 400)
    for _ in range(rng.randint(40, 90)):
        x, y = rng.uniform(0, w), rng.uniform(0, h * 0.6)
        k = rng.uniform(0.5, 1.8)
        draw.ellipse(
            (x - r * k, y - r * k, x + r * k, y + r * k), fill=(255, 255, 240, rng.randint(150, 255))
        )


# ----------------------------------------------------------------------------------------- styles

Style = Callable[[Image.Image, list[RGB], random.Random], Image.Image]


def _vignette(im: Image.Image, strength: float) -> Image.Image:
    edge = Image.radial_gradient("L").resize(im.size, Image.Resampling.BILINEAR)
    edge = edge.point(lambda v: int(max(0, v - 90) * 1.6 * strength))
    return Image.composite(solid(im.size, (0, 0, 0)), im, edge)


def grain(im: Image.Image, rng: random.Random, amount: float) -> Image.Image:
    """Deterministic film grain (seeded bytes, not Pillow's unseeded noise)."""
    nw, nh = max(1, im.width // 2), max(1, im.height // 2)
    noise = Image.frombytes("L", (nw, nh), rng.randbytes(nw * nh)).resize(im.size, Image.Resampling.BILINEAR)
    noise = noise.point(lambda v: int(128 + (v - 128) * amount))
    return ImageChops.overlay(im, Image.merge("RGB", (noise, noise, noise)))


def _soft(im: Image.Image) -> Image.Image:
    return im.filter(ImageFilter.GaussianBlur(max(0.6, min(im.size) / 220)))


def _enhance(im: Image.Image, palette: list[RGB], rng: random.Random) -> Image.Image:
    return _vignette(ImageEnhance.Contrast(im).enhance(1.08), 0.35)


def _photographic(im: Image.Image, palette: list[RGB], rng: random.Random) -> Image.Image:
    return grain(_vignette(_soft(im), 0.6), rng, 0.12)


def _cinematic(im: Image.Image, palette: list[RGB], rng: random.Random) -> Image.Image:
    graded = colorize3(im.convert("L"), (10, 40, 50), (120, 110, 100), (255, 200, 140))
    return grain(_vignette(Image.blend(_soft(im), graded, 0.35), 1.0), rng, 0.15)


def _analog(im: Image.Image, palette: list[RGB], rng: random.Random) -> Image.Image:
    warm = colorize3(im.convert("L"), (40, 25, 20), (160, 120, 90), (250, 235, 205))
    lifted = Image.blend(_soft(im), warm, 0.45).point(lambda v: 24 + v * 215 // 255)
    return grain(_vignette(lifted, 0.7), rng, 0.3)


def _edges(im: Image.Image) -> Image.Image:
    """Black-on-white lines from an image's edges (L)."""
    grey = im.convert("L").filter(ImageFilter.GaussianBlur(max(0.5, min(im.size) / 600)))
    edges = grey.filter(ImageFilter.FIND_EDGES).point(lambda v: 255 if v > 10 else 0)
    if im.width > 2 and im.height > 2:  # the filter leaves the outermost pixels unfiltered: not edges
        edges = ImageOps.expand(edges.crop((1, 1, im.width - 1, im.height - 1)), 1, fill=0)
    if min(im.size) >= 256:
        edges = edges.filter(ImageFilter.MaxFilter(3))
    return ImageOps.invert(edges)


def _line_art(im: Image.Image, palette: list[RGB], rng: random.Random) -> Image.Image:
    ink = ordered_by_luminance(palette)[0]
    lines = _edges(im)
    return Image.composite(
        solid(im.size, (255, 255, 255)),
        solid(im.size, (min(ink[0], 40), min(ink[1], 40), min(ink[2], 40))),
        lines,
    )


def _pixel_art(im: Image.Image, palette: list[RGB], rng: random.Random) -> Image.Image:
    cell = max(1, min(im.size) // 48)
    small = im.resize((max(1, im.width // cell), max(1, im.height // cell)), Image.Resampling.BOX)
    small = small.quantize(colors=16, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).convert(
        "RGB"
    )
    return small.resize(im.size, Image.Resampling.NEAREST)


def _outlined(im: Image.Image, width: int) -> Image.Image:
    lines = _edges(im)
    if width > 1:
        lines = lines.filter(ImageFilter.MinFilter(width if width % 2 else width + 1))
    return Image.composite(im, solid(im.size, (15, 15, 20)), lines)


def _anime(im: Image.Image, palette: list[RGB], rng: random.Random) -> Image.Image:
    bold = ImageEnhance.Color(ImageOps.posterize(im.filter(ImageFilter.GaussianBlur(1.5)), 3)).enhance(1.5)
    return _outlined(bold, 1)


def _comic(im: Image.Image, palette: list[RGB], rng: random.Random) -> Image.Image:
    bold = ImageEnhance.Contrast(ImageOps.posterize(im, 2)).enhance(1.2)
    return _outlined(bold, 3)


def _digital(im: Image.Image, palette: list[RGB], rng: random.Random) -> Image.Image:
    vivid = ImageEnhance.Contrast(ImageEnhance.Color(im).enhance(1.35)).enhance(1.12)
    glow = vivid.filter(ImageFilter.GaussianBlur(max(2, min(im.size) / 60)))
    return Image.blend(vivid, ImageChops.screen(vivid, glow), 0.35)


def _fantasy(im: Image.Image, palette: list[RGB], rng: random.Random) -> Image.Image:
    glow = im.filter(ImageFilter.GaussianBlur(max(2, min(im.size) / 40)))
    dreamy = Image.blend(im, ImageChops.screen(im, glow), 0.55)
    tint = colorize3(dreamy.convert("L"), (30, 10, 60), (140, 90, 170), (255, 235, 200))
    return _vignette(Image.blend(dreamy, tint, 0.25), 0.5)


def _neon(im: Image.Image, palette: list[RGB], rng: random.Random) -> Image.Image:
    dark = ImageEnhance.Brightness(im).enhance(0.3)
    lines = ImageOps.invert(_edges(im))
    neon = colorize3(lines, (0, 0, 0), (255, 0, 200), (0, 255, 255))
    glow = neon.filter(ImageFilter.GaussianBlur(max(1.5, min(im.size) / 150)))
    return ImageChops.screen(ImageChops.screen(dark, glow), neon)


def _low_poly(im: Image.Image, palette: list[RGB], rng: random.Random) -> Image.Image:
    w, h = im.size
    cols = max(2, min(18, w // 8))
    rows = max(2, round(cols * h / w))
    small = im.resize((cols * 4, rows * 4), Image.Resampling.BOX)
    pts = [
        [
            (
                (c + (rng.uniform(-0.35, 0.35) if 0 < c < cols else 0)) * w / cols,
                (r + (rng.uniform(-0.35, 0.35) if 0 < r < rows else 0)) * h / rows,
            )
            for c in range(cols + 1)
        ]
        for r in range(rows + 1)
    ]
    out = Image.new("RGB", im.size)
    draw = ImageDraw.Draw(out)
    for r in range(rows):
        for c in range(cols):
            a, b, d, e = pts[r][c], pts[r][c + 1], pts[r + 1][c], pts[r + 1][c + 1]
            for tri in ((a, b, d), (b, e, d)):
                mx = sum(p[0] for p in tri) / 3 * small.width / w
                my = sum(p[1] for p in tri) / 3 * small.height / h
                colour = small.getpixel((min(small.width - 1, int(mx)), min(small.height - 1, int(my))))
                assert isinstance(colour, tuple)
                draw.polygon(list(tri), fill=colour[:3], outline=colour[:3])
    return out


def _origami(im: Image.Image, palette: list[RGB], rng: random.Random) -> Image.Image:
    paper = _low_poly(im, palette, rng)
    return Image.blend(paper, solid(im.size, (245, 240, 230)), 0.25)


def _clay(im: Image.Image, palette: list[RGB], rng: random.Random) -> Image.Image:
    smooth = im.filter(ImageFilter.GaussianBlur(max(1.0, min(im.size) / 300)))
    relief = ImageOps.autocontrast(smooth.convert("L").filter(ImageFilter.EMBOSS), cutoff=1)
    shaded = ImageChops.overlay(smooth, Image.merge("RGB", (relief, relief, relief)))
    return _vignette(ImageEnhance.Color(shaded).enhance(1.2), 0.4)


STYLES: dict[str, Style] = {
    "enhance": _enhance,
    "photographic": _photographic,
    "cinematic": _cinematic,
    "analog-film": _analog,
    "line-art": _line_art,
    "pixel-art": _pixel_art,
    "anime": _anime,
    "comic-book": _comic,
    "digital-art": _digital,
    "fantasy-art": _fantasy,
    "neon-punk": _neon,
    "low-poly": _low_poly,
    "isometric": _low_poly,
    "origami": _origami,
    "modeling-compound": _clay,
    "3d-model": _clay,
}

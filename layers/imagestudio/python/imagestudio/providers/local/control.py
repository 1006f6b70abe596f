"""Control: images that follow an input image.

- sketch: the drawing's strokes (dark lines on a light page; a photo's edges otherwise) are drawn in
  the prompt palette's darkest colour over a composition rendered from the prompt; `control_strength`
  (default 0.7) sets how strongly.
- structure: the input's edges and its light and shade (recoloured in the prompt's palette) are kept
  under the prompt's composition, by `control_strength`.
- style: a composition rendered from the prompt at `aspect_ratio` (long side 1024), repainted in the
  reference's palette (palette mapping) with its fine texture; `fidelity` (default 0.5) sets how much.
- style_transfer: the content image recoloured in the style image's palette and tones, with the style's
  texture, blended by `style_strength x change_strength`; `composition_fidelity` keeps the content's
  edges.
"""

from __future__ import annotations

from PIL import Image, ImageChops, ImageFilter, ImageOps, ImageStat

from imagestudio.catalog import parse_aspect_ratio
from imagestudio.providers.base import ControlRequest, ProviderRejected
from imagestudio.providers.local import generate
from imagestudio.providers.local.common import (
    colorize3,
    cover,
    open_image,
    ordered_by_luminance,
    palette_image,
    palette_of,
    prompt_palette,
    rgb,
    solid,
)

STYLE_LONG_SIDE = 1024


def _clamp(value: float | None, default: float) -> float:
    return default if value is None else max(0.0, min(1.0, float(value)))


def apply(request: ControlRequest, seed: int) -> Image.Image:
    source = rgb(open_image(request.image))
    prompt = request.prompt or ""
    if request.operation in ("sketch", "structure"):
        return follow(source, request, prompt, seed)
    if request.operation == "style":
        return style_guide(source, request, prompt, seed)
    if request.style_image is None:
        raise ProviderRejected("style_transfer needs a style image.")
    return style_transfer(source, rgb(open_image(request.style_image, "style image")), request)


def edge_map(im: Image.Image, *, drawing: bool) -> Image.Image:
    """L, 255 on lines: a drawing's strokes, or a photo's edges."""
    grey = im.convert("L")
    if drawing:
        return ImageOps.autocontrast(ImageOps.invert(grey), cutoff=0.5).point(
            lambda v: 0 if v < 40 else min(255, (v - 40) * 2)
        )
    soft = grey.filter(ImageFilter.GaussianBlur(max(0.7, min(im.size) / 700)))
    edges = gradient(soft)
    # an absolute threshold: smooth gradients (steps of a level or two) are not structure
    edges = edges.point(lambda v: 0 if v < 12 else min(255, (v - 12) * 4))
    return edges.filter(ImageFilter.MaxFilter(3)) if min(im.size) >= 64 else edges


def gradient(grey: Image.Image) -> Image.Image:
    """L: the Sobel gradient magnitude (the larger of |gx| and |gy|, doubled), 0 on the outer pixels."""
    kx = ImageFilter.Kernel((3, 3), [-1, 0, 1, -2, 0, 2, -1, 0, 1], scale=1, offset=128)
    ky = ImageFilter.Kernel((3, 3), [-1, -2, -1, 0, 0, 0, 1, 2, 1], scale=1, offset=128)
    folded = [grey.filter(k).point(lambda v: min(255, abs(v - 128) * 2)) for k in (kx, ky)]
    edges = ImageChops.lighter(folded[0], folded[1])
    if grey.width > 2 and grey.height > 2:  # the filter leaves the outermost pixels unfiltered
        edges = ImageOps.expand(edges.crop((1, 1, grey.width - 1, grey.height - 1)), 1, fill=0)
    return edges


def _is_drawing(im: Image.Image) -> bool:
    """Mostly light with few mid tones: lines on paper."""
    grey = im.convert("L")
    grey.thumbnail((128, 128))
    return bool(ImageStat.Stat(grey).mean[0] > 170)


def follow(source: Image.Image, request: ControlRequest, prompt: str, seed: int) -> Image.Image:
    strength = _clamp(request.control_strength, 0.7)
    size = source.size
    palette = prompt_palette(prompt, seed, request.negative_prompt)
    shades = ordered_by_luminance(palette)
    drawing = request.operation == "sketch" and _is_drawing(source)
    lines = edge_map(source, drawing=drawing)
    composition = generate.render(
        prompt, seed, size, negative_prompt=request.negative_prompt, with_label=False
    )
    if request.operation == "structure" or not drawing:
        tones = colorize3(source.convert("L"), shades[0], palette[0], shades[-1])
        composition = Image.blend(composition, tones, 0.35 + 0.5 * strength)
    else:
        # a sketch's enclosed areas take soft palette washes; the page stays light
        page = Image.blend(composition, solid(size, shades[-1]), 0.35 * strength)
        composition = page
    ink = shades[0]
    ink = (min(ink[0], 50), min(ink[1], 50), min(ink[2], 50))
    weight = lines.point(lambda v: int(v * (0.15 + 0.85 * strength)))
    return generate.label(Image.composite(solid(size, ink), composition, weight), prompt)


def _aspect_size(aspect_ratio: str | None) -> tuple[int, int]:
    try:
        value = parse_aspect_ratio(aspect_ratio or "1:1")
    except ValueError as exc:
        raise ProviderRejected(f"Unknown aspect ratio '{aspect_ratio}'.") from exc
    if value >= 1:
        return (STYLE_LONG_SIDE, max(1, round(STYLE_LONG_SIDE / value)))
    return (max(1, round(STYLE_LONG_SIDE * value)), STYLE_LONG_SIDE)


def _texture(reference: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The reference's fine detail (a high-pass centred on mid grey) at `size`."""
    fitted = cover(reference, size)
    blurred = fitted.filter(ImageFilter.GaussianBlur(max(2.0, min(size) / 150)))
    return ImageChops.subtract(fitted, blurred, scale=1.0, offset=128)


def style_guide(reference: Image.Image, request: ControlRequest, prompt: str, seed: int) -> Image.Image:
    fidelity = _clamp(request.fidelity, 0.5)
    size = _aspect_size(request.aspect_ratio)
    colours = palette_of(reference, 8)
    composition = generate.render(
        prompt, seed, size, negative_prompt=request.negative_prompt, with_label=False
    )
    mapped = composition.quantize(palette=palette_image(colours), dither=Image.Dither.NONE).convert("RGB")
    mapped = mapped.filter(ImageFilter.SMOOTH)
    painted = Image.blend(composition, mapped, 0.45 + 0.55 * fidelity)
    textured = ImageChops.overlay(painted, _texture(reference, size))
    return generate.label(Image.blend(painted, textured, 0.3 + 0.5 * fidelity), prompt)


def style_transfer(content: Image.Image, style: Image.Image, request: ControlRequest) -> Image.Image:
    strength = _clamp(request.style_strength, 1.0) * _clamp(request.change_strength, 0.9)
    keep = _clamp(request.composition_fidelity, 0.9)
    size = content.size
    colours = palette_of(style, 8)
    shades = ordered_by_luminance(colours)
    mapped = content.quantize(palette=palette_image(colours), dither=Image.Dither.NONE).convert("RGB")
    tones = colorize3(content.convert("L"), shades[0], shades[len(shades) // 2], shades[-1])
    styled = Image.blend(tones, mapped.filter(ImageFilter.SMOOTH_MORE), 0.5)
    styled = Image.blend(styled, ImageChops.overlay(styled, _texture(style, size)), 0.7)
    out = Image.blend(content, styled, strength)
    edges = edge_map(content, drawing=False).point(lambda v: int(v * keep * 0.5))
    return Image.composite(ImageChops.multiply(out, solid(size, (90, 90, 90))), out, edges)

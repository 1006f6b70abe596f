"""Automatic tags for every new asset, without an AI provider: Pillow and the asset's own metadata.

`auto_tags(image, ctx)` returns sorted, unique, lower-case tags (at most `MAX_TAGS`) that a marketer
would type into the library's search box:

- colours: the picture is shrunk to at most `SAMPLE_SIDE` pixels a side (pictures over `EXACT_PIXELS`
  are first sampled on a regular grid, for speed), quantised (median cut) into a few dozen clusters,
  and each cluster is named after the nearest of a fixed set of reference colours in OKLab (several
  references per name: "blue" covers royal blue and sky blue). Clusters with the same name are merged;
  names that cover at least `COLOUR_MIN_SHARE` of the opaque pixels become tags ("red", "navy", ...),
  at most `MAX_COLOUR_TAGS`. Transparent pixels count for nothing, half-transparent ones for half;
- shape: "portrait" / "landscape" / "square", the nearest common aspect ratio ("ratio-4x5") when it is
  within 2 %, and a size class by the long side ("small", "medium", "large", "xlarge");
- what and where from: the format ("png", "mp4", "glb"), the asset type ("image", "video"), the
  operation and source ("create", "generated"), the template and platform ("instagram-feed-portrait",
  "instagram"), and for video and audio a duration class ("short", "medium-length", "long");
- the prompt's keywords: words of three letters or more, without stop words and prompt filler
  ("photo", "detailed", "8k"), plurals naively folded.

A provider-based tagger can be added later: `auto_tags(..., tagger=...)` merges its tags with the local
ones; if it fails, the failure is logged and the local tags are still returned.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Protocol

from PIL import Image

log = logging.getLogger(__name__)

MAX_TAGS: Final = 30
MAX_TAG_LENGTH: Final = 48  # longer "tags" (from an extra tagger) are dropped
SAMPLE_SIDE: Final = 64  # colours are measured on a copy of at most this many pixels a side
EXACT_PIXELS: Final = 4_000_000  # up to this, every pixel is averaged into the copy
PRESAMPLE_SIDE: Final = 512  # beyond it, a grid of samples this many a side is averaged instead
QUANTISE_COLOURS: Final = 32  # median-cut clusters, each then named
COLOUR_MIN_SHARE: Final = 0.15
MAX_COLOUR_TAGS: Final = 3
SQUARE_TOLERANCE: Final = 0.02
RATIO_TOLERANCE: Final = 0.02
PROMPT_KEYWORDS: Final = 8

# ---------------------------------------------------------------------------------------------------------
# Context and the tagger protocol


@dataclass(frozen=True)
class TagContext:
    """What is known about an asset besides its pixels."""

    mime: str
    width: int | None
    height: int | None
    bytes: int
    asset_type: str = "image"  # image | video | audio | model3d | text
    operation: str | None = None  # create, edit, upscale, control, social, image-to-video, upload, ...
    source: str | None = None  # generated | edited | upscaled | controlled | social | upload | ...
    prompt: str | None = None
    template_id: str | None = None  # e.g. instagram_feed_portrait
    platform: str | None = None  # e.g. instagram
    duration: float | None = None  # seconds, for video and audio


class Tagger(Protocol):
    """Something that tags an asset: `LocalTagger` here, a provider-based one later."""

    def tags(self, image: Image.Image | None, ctx: TagContext) -> list[str]: ...


# ---------------------------------------------------------------------------------------------------------
# Colour names

# Several references per name, as sRGB; a colour takes the name of its nearest reference in OKLab.
_REFERENCES: Final[dict[str, tuple[tuple[int, int, int], ...]]] = {
    "red": ((255, 0, 0), (220, 20, 60), (178, 34, 34), (139, 0, 0), (128, 0, 0), (90, 10, 20), (255, 69, 58)),
    "orange": ((255, 165, 0), (255, 140, 0), (255, 127, 80), (255, 99, 71), (230, 120, 40), (250, 185, 60)),
    "yellow": (
        (255, 255, 0),
        (255, 215, 0),
        (240, 230, 140),
        (255, 240, 100),
        (218, 190, 30),
        (190, 150, 20),
        (165, 125, 5),
    ),
    "green": (
        (0, 128, 0),
        (0, 255, 0),
        (34, 139, 34),
        (0, 100, 0),
        (0, 60, 30),
        (50, 205, 50),
        (154, 205, 50),
        (107, 142, 35),
        (85, 107, 47),
        (144, 238, 144),
        (170, 230, 200),
        (46, 139, 87),
    ),
    "teal": (
        (0, 128, 128),
        (0, 206, 209),
        (64, 224, 208),
        (32, 178, 170),
        (0, 255, 255),
        (0, 95, 95),
        (0, 70, 60),
    ),
    "blue": (
        (0, 0, 255),
        (30, 144, 255),
        (65, 105, 225),
        (70, 130, 180),
        (60, 90, 130),
        (64, 64, 150),
        (100, 149, 237),
        (135, 206, 235),
        (0, 90, 200),
        (173, 216, 230),
        (175, 200, 235),
    ),
    "navy": ((0, 0, 128), (25, 25, 112), (20, 40, 80), (0, 0, 90), (31, 48, 94)),
    "purple": (
        (128, 0, 128),
        (148, 0, 211),
        (138, 43, 226),
        (186, 85, 211),
        (147, 112, 219),
        (75, 0, 130),
        (70, 0, 70),
        (102, 51, 153),
        (200, 162, 200),
    ),
    "pink": (
        (255, 192, 203),
        (255, 105, 180),
        (255, 20, 147),
        (219, 112, 147),
        (255, 182, 193),
        (255, 0, 255),
    ),
    "brown": (
        (139, 69, 19),
        (160, 82, 45),
        (101, 67, 33),
        (70, 40, 15),
        (120, 80, 50),
        (125, 105, 60),
        (92, 64, 51),
    ),
    "black": ((0, 0, 0), (25, 25, 25), (20, 20, 30)),
    "white": ((255, 255, 255), (245, 245, 245), (248, 248, 255), (255, 250, 250)),
    "gray": ((128, 128, 128), (169, 169, 169), (192, 192, 192), (211, 211, 211), (90, 90, 90), (60, 60, 60)),
    "beige": ((245, 245, 220), (222, 200, 160), (210, 180, 140), (255, 228, 196), (238, 222, 190)),
}

COLOUR_NAMES: Final = tuple(_REFERENCES)


def _linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


_LINEAR: Final = tuple(_linear(v) for v in range(256))


def _lab(rgb: tuple[int, int, int]) -> tuple[float, float, float]:
    """OKLab (Björn Ottosson, 2020): perceptually even enough, and without CIELAB's blue-to-purple bend."""
    r, g, b = (_LINEAR[v] for v in rgb)
    lc = (0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b) ** (1 / 3)
    mc = (0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b) ** (1 / 3)
    sc = (0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b) ** (1 / 3)
    return (
        0.2104542553 * lc + 0.7936177850 * mc - 0.0040720468 * sc,
        1.9779984951 * lc - 2.4285922050 * mc + 0.4505937099 * sc,
        0.0259040371 * lc + 0.7827717662 * mc - 0.8086757660 * sc,
    )


_REFERENCE_LAB: Final = tuple(
    (name, _lab(rgb)) for name, references in _REFERENCES.items() for rgb in references
)


@lru_cache(maxsize=4096)
def colour_name(rgb: tuple[int, int, int]) -> str:
    """The marketer-friendly name of an sRGB colour: the name of its nearest reference in OKLab."""
    lightness, a, b = _lab(rgb)
    best_name, best_distance = "", math.inf
    for name, (rl, ra, rb) in _REFERENCE_LAB:
        distance = (lightness - rl) ** 2 + (a - ra) ** 2 + (b - rb) ** 2
        if distance < best_distance:
            best_name, best_distance = name, distance
    return best_name


# ---------------------------------------------------------------------------------------------------------
# Dominant colours

_INDEXED_MODES: Final = frozenset({"1", "P", "PA"})  # averaging their values means nothing
_ALPHA_MODES: Final = frozenset({"LA", "La", "PA", "P", "RGBa"})


def _fit(size: tuple[int, int], side: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, side / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _sample(image: Image.Image) -> Image.Image:
    """An RGBA copy of at most SAMPLE_SIDE pixels a side (the caller's image is never changed)."""
    size = _fit(image.size, SAMPLE_SIDE)
    if image.mode in _INDEXED_MODES or image.mode.startswith("I;16"):
        small = image.resize(size, Image.Resampling.NEAREST)
        if small.mode.startswith("I;16"):
            small = small.convert("I")
    else:
        source = image
        if image.width * image.height > EXACT_PIXELS:
            # averaging every pixel of a huge picture costs ~25 ms (RGB) to ~110 ms (RGBA, premultiplied)
            # at 4096 x 4096: a regular grid of samples gives the same colour shares in well under 1 ms
            source = image.resize(_fit(image.size, PRESAMPLE_SIDE), Image.Resampling.NEAREST)
        factor = max(1, max(source.size) // (SAMPLE_SIDE * 2))
        small = source.reduce(factor) if factor > 1 else source
        small = small.resize(size, Image.Resampling.BOX) if small.size != size else small.copy()
    if small.mode in ("I", "F"):
        # 16-bit and float greys: bring them into 0..255 before Pillow clips them
        _low, high = small.getextrema()
        top = float(high) if isinstance(high, int | float) else 255.0
        if top > 255:  # 16-bit data, or wider: scaled to its nominal range
            scale = 255 / 65535 if top <= 65535 else 255 / top
            small = small.point(lambda v: v * scale)
        elif small.mode == "F" and 0 < top <= 1:
            small = small.point(lambda v: v * 255)
        small = small.convert("L")
    if small.mode == "RGBA":
        return small
    if small.mode in _ALPHA_MODES or "transparency" in small.info:
        return small.convert("RGBA")
    return small.convert("RGB").convert("RGBA")  # through RGB: Pillow has no direct HSV or LAB to RGBA


def dominant_colours(image: Image.Image, *, count: int = 3) -> list[tuple[str, float]]:
    """The `count` most common colour names in the picture with their share (0..1), largest first.

    Shares are of the opaque area: fully transparent pixels are ignored, partly transparent ones count
    in proportion to their alpha. A fully transparent picture has no colours.
    """
    if count <= 0:
        return []
    sample = _sample(image)
    alpha = sample.getchannel("A")
    rgb = sample.convert("RGB")
    quantised = rgb.quantize(
        colors=QUANTISE_COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
    )
    palette = quantised.getpalette() or []
    # (cluster, alpha) pairs: the L band carries the cluster index
    indices = Image.frombytes("L", quantised.size, quantised.tobytes())
    pairs = Image.merge("LA", (indices, alpha))
    weights: dict[str, float] = {}
    total = 0.0
    for pixels, value in pairs.getcolors(maxcolors=sample.width * sample.height) or []:
        if not isinstance(value, tuple):
            continue
        index, a = value[0], value[1]
        base = 3 * int(index)
        if a == 0 or base + 2 >= len(palette):
            continue
        weight = pixels * a / 255
        colour = (palette[base], palette[base + 1], palette[base + 2])
        name = colour_name(colour)
        weights[name] = weights.get(name, 0.0) + weight
        total += weight
    if total <= 0:
        return []
    ranked = sorted(weights.items(), key=lambda item: (-item[1], item[0]))
    return [(name, weight / total) for name, weight in ranked[:count]]


# ---------------------------------------------------------------------------------------------------------
# Shape, format, duration

_RATIOS: Final[tuple[tuple[str, float], ...]] = (
    ("1x1", 1.0),
    ("4x5", 4 / 5),
    ("5x4", 5 / 4),
    ("2x3", 2 / 3),
    ("3x2", 3 / 2),
    ("3x4", 3 / 4),
    ("4x3", 4 / 3),
    ("9x16", 9 / 16),
    ("16x9", 16 / 9),
    ("21x9", 21 / 9),
    ("1.91x1", 1.91),
)


def orientation(width: int, height: int) -> str:
    ratio = width / height
    if abs(ratio - 1) < SQUARE_TOLERANCE:
        return "square"
    return "landscape" if ratio > 1 else "portrait"


def ratio_tag(width: int, height: int) -> str | None:
    """The nearest common aspect ratio as "ratio-4x5", when it is within RATIO_TOLERANCE."""
    ratio = width / height
    name, target = min(_RATIOS, key=lambda item: abs(ratio / item[1] - 1))
    return f"ratio-{name}" if abs(ratio / target - 1) <= RATIO_TOLERANCE else None


def size_class(width: int, height: int) -> str:
    long_side = max(width, height)
    if long_side < 512:
        return "small"
    if long_side < 1536:
        return "medium"
    if long_side < 3000:
        return "large"
    return "xlarge"


_FORMATS: Final = {
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/jpg": "jpeg",
    "image/pjpeg": "jpeg",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/svg+xml": "svg",
    "video/mp4": "mp4",
    "video/webm": "webm",
    "video/quicktime": "mov",
    "model/gltf-binary": "glb",
    "model/gltf+json": "gltf",
    "audio/wav": "wav",
    "audio/wave": "wav",
    "audio/x-wav": "wav",
    "audio/vnd.wave": "wav",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "text/plain": "txt",
    "text/markdown": "md",
}


def format_tag(mime: str) -> str | None:
    """ "png", "mp4", "glb", ... from a MIME type; otherwise its subtype without "x-" or a "+suffix"."""
    mime = mime.split(";", 1)[0].strip().lower()
    if not mime:
        return None
    if mime in _FORMATS:
        return _FORMATS[mime]
    subtype = mime.rpartition("/")[2].split("+", 1)[0]
    subtype = subtype.removeprefix("x-").removeprefix("vnd.")
    return slug(subtype) or None


def duration_class(seconds: float) -> str:
    if seconds < 10:
        return "short"
    if seconds < 60:
        return "medium-length"
    return "long"


# ---------------------------------------------------------------------------------------------------------
# Template and platform

PLATFORMS: Final = frozenset(
    {"instagram", "facebook", "twitter", "x", "linkedin", "pinterest", "tiktok", "youtube", "snapchat"}
)


def slug(value: str) -> str:
    """A tag from free text: lower-case, runs of spaces, underscores and slashes become one '-'."""
    text = re.sub(r"[\s_/]+", "-", value.strip().lower())
    return re.sub(r"-{2,}", "-", text).strip("-")


def _platform_of_template(template_id: str) -> str | None:
    first = re.split(r"[_\-\s.]+", template_id.strip().lower(), maxsplit=1)[0]
    return first if first in PLATFORMS else None


# ---------------------------------------------------------------------------------------------------------
# Prompt keywords

_STOP_TEXT: Final = """
    the and for with from into onto over under this that these those there their them they then than
    its his her hers him she you your yours our ours who whom whose which what when where while why how
    are was were been being have has had having does did doing done not but nor yet also very too just
    only some any all each both few more most other such same own can could would should will shall may
    might must about above below between through during before after again further once here out off
    upon near next like make makes made get gets set using use show shows showing featuring feature
    image images photo photos photograph photography picture pictures pic render rendering rendered shot
    high quality detailed detail details highly style styled background realistic photorealistic
    hyperrealistic ultra resolution sharp focus professional beautiful stunning best masterpiece
    trending award winning cinematic lighting composition view closeup 4k 8k hd uhd
"""
STOP_WORDS: Final = frozenset(_STOP_TEXT.split())
# ("4k", "8k" and "hd" could never be keywords anyway: they have digits or fewer than three letters.)

_WORD: Final = re.compile(r"[^\W\d_]+")
_NO_PLURAL_FOLD: Final = ("ss", "us", "is")
_ES_PLURALS: Final = ("sses", "shes", "ches", "xes")


def _fold_plural(word: str) -> str:
    if len(word) <= 4 or not word.endswith("s") or word.endswith(_NO_PLURAL_FOLD):
        return word
    if word.endswith(_ES_PLURALS):
        return word[:-2]
    return word[:-1]


def prompt_keywords(prompt: str, *, limit: int = PROMPT_KEYWORDS) -> list[str]:
    """The prompt's content words, lower-case, in order of first appearance, at most `limit`.

    Words are runs of letters (any script) of three letters or more; stop words and generic prompt
    filler are dropped; a trailing plural 's' is stripped from longer words ("sneakers" -> "sneaker",
    "beaches" -> "beach"), so that singular and plural are one keyword.
    """
    keywords: list[str] = []
    seen: set[str] = set()
    if limit <= 0:
        return keywords
    for match in _WORD.finditer(prompt.lower()):
        word = match.group()
        if len(word) < 3 or word in STOP_WORDS:
            continue
        word = _fold_plural(word)
        if word in seen or word in STOP_WORDS:
            continue
        seen.add(word)
        keywords.append(word)
        if len(keywords) >= limit:
            break
    return keywords


# ---------------------------------------------------------------------------------------------------------
# The local tagger and the merge


class LocalTagger:
    """The default tagger: Pillow and the asset's metadata only. Never raises on a bad picture."""

    def tags(self, image: Image.Image | None, ctx: TagContext) -> list[str]:
        tags: list[str] = []
        if image is not None:
            try:
                tags += [
                    name
                    for name, share in dominant_colours(image, count=MAX_COLOUR_TAGS)
                    if share >= COLOUR_MIN_SHARE
                ]
            except (OSError, ValueError) as error:  # a truncated or unreadable picture: no colour tags
                log.warning("autotag: colours skipped: %s", error)
        width, height = ctx.width, ctx.height
        if (not width or not height) and image is not None:
            width, height = image.size
        if width and height and width > 0 and height > 0:
            tags.append(orientation(width, height))
            ratio = ratio_tag(width, height)
            if ratio:
                tags.append(ratio)
            tags.append(size_class(width, height))
        fmt = format_tag(ctx.mime)
        if fmt:
            tags.append(fmt)
        tags.append(slug(ctx.asset_type))
        if ctx.operation:
            tags.append(slug(ctx.operation))
        if ctx.source and slug(ctx.source) != slug(ctx.operation or ""):
            tags.append(slug(ctx.source))
        if ctx.template_id:
            tags.append(slug(ctx.template_id))
        if ctx.platform:
            tags.append(slug(ctx.platform))
        elif ctx.template_id:
            platform = _platform_of_template(ctx.template_id)
            if platform:
                tags.append(platform)
        if ctx.duration is not None and ctx.asset_type.lower() in ("video", "audio") and ctx.duration >= 0:
            tags.append(duration_class(ctx.duration))
        if ctx.prompt:
            tags += prompt_keywords(ctx.prompt)
        return [tag for tag in tags if tag]


_LOCAL: Final = LocalTagger()


def _clean(tags: Iterable[object]) -> list[str]:
    cleaned: list[str] = []
    for tag in tags:
        if not isinstance(tag, str):
            continue
        text = slug(tag)
        if text and len(text) <= MAX_TAG_LENGTH:
            cleaned.append(text)
    return cleaned


def auto_tags(image: Image.Image | None, ctx: TagContext, tagger: Tagger | None = None) -> list[str]:
    """Sorted, unique, lower-case tags for an asset, at most MAX_TAGS.

    The local tags come first when there are too many: an extra tagger's tags fill what room is left.
    An extra tagger that fails is logged and ignored.
    """
    tags = _clean(_LOCAL.tags(image, ctx))
    if tagger is not None:
        try:
            tags += _clean(tagger.tags(image, ctx))
        except Exception:
            log.exception("autotag: extra tagger %s failed; local tags only", type(tagger).__name__)
    unique = list(dict.fromkeys(tags))[:MAX_TAGS]
    return sorted(unique)

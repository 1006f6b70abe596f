"""Shared helpers of the offline provider: stable hashing and RNGs, prompt palettes, decoding inputs,
encoding outputs, masks and small Pillow recipes (no per-pixel Python loops over large images)."""

from __future__ import annotations

import colorsys
import hashlib
import io
import random
import re
from collections.abc import Iterable, Sequence
from typing import Final

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageOps, ImageStat

from imagestudio.imaging.verify import sniff_format
from imagestudio.providers.base import Media, Output, OutputFormat, ProviderRejected

RGB = tuple[int, int, int]

#: The largest image side and area the offline renderer makes (a guard for memory, not a product limit).
MAX_SIDE: Final = 16384
MAX_PIXELS: Final = 80_000_000

MIME_BY_FORMAT: Final[dict[str, str]] = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
RENDERER: Final = "local-pillow"

# ----------------------------------------------------------------------------------------- hashing


def stable_int(*parts: object) -> int:
    """A 64-bit integer from the parts' text: the same in every process (unlike `hash`)."""
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def rng_for(*parts: object) -> random.Random:
    return random.Random(stable_int(*parts))


def effective_seed(seed: int | None, *parts: object) -> int:
    """The request's seed, or one derived from the request's text (so a seedless call is repeatable)."""
    if seed is not None:
        return int(seed)
    return stable_int(*parts) % 4_294_967_295


# ----------------------------------------------------------------------------------------- colours


def hexrgb(value: str) -> RGB:
    value = value.lstrip("#")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def _pal(*values: str) -> tuple[RGB, ...]:
    return tuple(hexrgb(v) for v in values)


#: Colour and scene words and the palettes they mean, strongest colour first.
COLOR_WORDS: Final[dict[str, tuple[RGB, ...]]] = {
    "red": _pal("d62828", "9d0208", "e85d5d", "6a040f"),
    "crimson": _pal("b80f2a", "8a0b1f", "dc3450"),
    "scarlet": _pal("ff2400", "c41e0a", "ff5a36"),
    "cherry": _pal("d2042d", "8b0020", "f0506e"),
    "rose": _pal("e8507a", "c2185b", "f8a5c2"),
    "orange": _pal("f77f00", "e85d04", "ffa94d", "b34700"),
    "amber": _pal("ffbf00", "e09f00", "ffd35c"),
    "yellow": _pal("ffd60a", "f9c80e", "fff07a", "c9a400"),
    "gold": _pal("d4af37", "b8860b", "f3d36b"),
    "golden": _pal("d4af37", "e6b422", "f3d36b"),
    "lemon": _pal("fff44f", "e8d82e", "fffaa0"),
    "green": _pal("2b9348", "007f5f", "80b918", "1b4332"),
    "lime": _pal("a7e22e", "7fbf1f", "d4f28a"),
    "mint": _pal("98ffcc", "5fd3a0", "c8ffe4"),
    "emerald": _pal("009b77", "00704a", "34c79a"),
    "teal": _pal("008080", "0b6e6e", "3fb6b2"),
    "turquoise": _pal("40e0d0", "1fb5a6", "9ef1e8"),
    "cyan": _pal("00b4d8", "0096c7", "90e0ef"),
    "blue": _pal("1d4ed8", "0b3c91", "3a86ff", "0a1f5c"),
    "azure": _pal("2f8cff", "1769d1", "8cc4ff"),
    "navy": _pal("0a1f5c", "14213d", "23395b"),
    "indigo": _pal("3f37c9", "2b2a8f", "6a63e0"),
    "purple": _pal("7b2cbf", "5a189a", "c77dff", "3c096c"),
    "violet": _pal("8f00ff", "6a0dad", "c48cff"),
    "lavender": _pal("b8a1e3", "9c84d4", "e2d6f7"),
    "magenta": _pal("d100d1", "a000a0", "ff5cff"),
    "pink": _pal("ff70a6", "f72585", "ffc2d9"),
    "brown": _pal("7f4f24", "582f0e", "a68a64"),
    "coffee": _pal("4b2e1e", "6f4e37", "a67b5b"),
    "chocolate": _pal("5c3317", "3d2010", "8b5a2b"),
    "beige": _pal("e9dcc9", "d6c4a8", "f5efe6"),
    "black": _pal("0b0b0b", "1c1c1c", "333333"),
    "dark": _pal("121212", "22223b", "2b2d42"),
    "white": _pal("f8f9fa", "e9ecef", "ffffff"),
    "gray": _pal("808080", "5c5c5c", "adb5bd"),
    "grey": _pal("808080", "5c5c5c", "adb5bd"),
    "silver": _pal("c0c0c0", "a8a9ad", "e0e0e0"),
    "ocean": _pal("03045e", "0077b6", "00b4d8", "90e0ef", "caf0f8"),
    "sea": _pal("023e8a", "0077b6", "48cae4", "ade8f4"),
    "water": _pal("0077b6", "00b4d8", "90e0ef"),
    "lake": _pal("1b4965", "5fa8d3", "bee9e8"),
    "river": _pal("1b4965", "62b6cb", "cae9ff"),
    "sky": _pal("87ceeb", "4ea8de", "cfe8ff", "ffffff"),
    "sunset": _pal("ff7b00", "ff4d6d", "c9184a", "7b2cbf", "ffb703"),
    "sunrise": _pal("ffb703", "fb8500", "ff99c8", "a2d2ff"),
    "dusk": _pal("3c096c", "7b2cbf", "ff6d00", "240046"),
    "forest": _pal("1b4332", "2d6a4f", "40916c", "74c69d", "582f0e"),
    "jungle": _pal("004b23", "006400", "38b000", "9ef01a"),
    "tree": _pal("2d6a4f", "40916c", "6f4e37"),
    "grass": _pal("55a630", "80b918", "aacc00"),
    "leaf": _pal("38b000", "70e000", "008000"),
    "desert": _pal("e9c46a", "f4a261", "e76f51", "fefae0"),
    "sand": _pal("e9d8a6", "d4a373", "faedcd"),
    "beach": _pal("f4e1b6", "48cae4", "0096c7", "fefae0"),
    "night": _pal("03045e", "0b090a", "240046", "3c096c"),
    "midnight": _pal("0b132b", "1c2541", "3a506b"),
    "space": _pal("0b0c10", "1f2833", "5a189a", "c5c6c7"),
    "galaxy": _pal("10002b", "240046", "7b2cbf", "e0aaff"),
    "snow": _pal("ffffff", "e0fbfc", "c2dfe3", "9db4c0"),
    "winter": _pal("e0fbfc", "c2dfe3", "5c6b73", "253237"),
    "ice": _pal("caf0f8", "ade8f4", "90e0ef"),
    "fire": _pal("ff0000", "ff5a00", "ff9a00", "ffce00"),
    "flame": _pal("e25822", "ff9a00", "ffce00"),
    "lava": _pal("8b0000", "ff4500", "ffa500", "1a0a00"),
    "autumn": _pal("bc4b00", "e36414", "fb8b24", "9a031e", "5f0f40"),
    "fall": _pal("bc4b00", "e36414", "9a031e"),
    "spring": _pal("b7e4c7", "ffc8dd", "fffcf2", "95d5b2"),
    "summer": _pal("ffbe0b", "fb5607", "3a86ff", "8ecae6"),
    "neon": _pal("ff00ff", "00ffff", "39ff14", "1a1a2e"),
    "cyberpunk": _pal("ff2a6d", "05d9e8", "d1f7ff", "01012b"),
    "pastel": _pal("ffd6e0", "c1fba4", "a0c4ff", "fdffb6"),
    "vintage": _pal("c9ada7", "9a8c98", "4a4e69", "f2e9e4"),
    "mountain": _pal("495057", "6c757d", "adb5bd", "f8f9fa"),
    "city": _pal("2b2d42", "8d99ae", "edf2f4", "ef233c"),
    "sun": _pal("ffd60a", "ffb703", "fb8500"),
    "moon": _pal("f8f9fa", "ced4da", "343a40"),
    "coral": _pal("ff7f50", "ff6347", "ffb199"),
    "peach": _pal("ffcba4", "ffb38a", "ffe5d4"),
    "olive": _pal("708238", "556b2f", "a3b565"),
    "wine": _pal("722f37", "5e1914", "a4404c"),
}

_STOP = "a an the of and or in on at with to for from by into over under this that is are be as it its very"
STOP_WORDS: Final = frozenset(f"{_STOP} some photo image picture style".split(" "))

#: Named colours a search/recolour prompt may pick, as hues on Pillow's 0..255 HSV scale.
HUE_WORDS: Final[dict[str, int]] = {
    "red": 0,
    "crimson": 248,
    "scarlet": 5,
    "orange": 21,
    "amber": 32,
    "yellow": 43,
    "gold": 36,
    "golden": 36,
    "lime": 60,
    "green": 85,
    "emerald": 110,
    "teal": 128,
    "turquoise": 123,
    "cyan": 128,
    "blue": 160,
    "azure": 149,
    "navy": 160,
    "indigo": 180,
    "purple": 196,
    "violet": 193,
    "lavender": 191,
    "magenta": 213,
    "pink": 233,
    "rose": 240,
    "brown": 21,
}
ACHROMATIC_WORDS: Final[dict[str, int]] = {"white": 245, "black": 15, "gray": 128, "grey": 128, "silver": 190}


def words(text: str | None) -> list[str]:
    return re.findall(r"[a-z0-9]+", (text or "").lower())


#: Adjective and plural forms of colour and scene words.
WORD_FORMS: Final[dict[str, str]] = {
    "snowy": "snow",
    "icy": "ice",
    "fiery": "fire",
    "sandy": "sand",
    "leafy": "leaf",
    "leaves": "leaf",
    "grassy": "grass",
    "starry": "night",
    "rosy": "rose",
    "reddish": "red",
    "bluish": "blue",
    "greenish": "green",
    "yellowish": "yellow",
    "purplish": "purple",
    "pinkish": "pink",
    "oceanic": "ocean",
    "wintry": "winter",
    "autumnal": "autumn",
    "trees": "tree",
    "mountains": "mountain",
}


def _singular(word: str) -> str:
    if word in COLOR_WORDS:
        return word
    if word in WORD_FORMS:
        return WORD_FORMS[word]
    if word.endswith("s") and word[:-1] in COLOR_WORDS:
        return word[:-1]
    return word


def hashed_colour(word: str) -> RGB:
    """A lively colour from a word's hash: the same word always gives the same colour."""
    h = stable_int("hue", word)
    hue = (h % 360) / 360.0
    sat = 0.45 + ((h >> 9) % 40) / 100.0
    val = 0.55 + ((h >> 17) % 40) / 100.0
    r, g, b = colorsys.hsv_to_rgb(hue, sat, val)
    return (round(r * 255), round(g * 255), round(b * 255))


def jitter(colour: RGB, rng: random.Random, amount: int = 14) -> RGB:
    return (
        max(0, min(255, colour[0] + rng.randint(-amount, amount))),
        max(0, min(255, colour[1] + rng.randint(-amount, amount))),
        max(0, min(255, colour[2] + rng.randint(-amount, amount))),
    )


def colour_words(text: str | None) -> list[str]:
    return [w for w in (_singular(t) for t in words(text)) if w in COLOR_WORDS]


def prompt_palette(
    prompt: str | None, seed: int, negative_prompt: str | None = None, size: int = 6
) -> list[RGB]:
    """`size` colours for a prompt: its colour and scene words' palettes first (they dominate), then
    colours hashed from its other words; each jittered a little by the seed; the negative prompt's
    colour words are left out."""
    rng = rng_for("palette", seed, prompt)
    banned = {c for w in colour_words(negative_prompt) for c in COLOR_WORDS[w]}
    named = [[c for c in COLOR_WORDS[w] if c not in banned] for w in dict.fromkeys(colour_words(prompt))]
    # round-robin over the named colours, so "red and blue" has both
    longest = max((len(p) for p in named), default=0)
    primary: list[RGB] = [p[i] for i in range(longest) for p in named if i < len(p)]
    others = [w for w in words(prompt) if w not in STOP_WORDS and _singular(w) not in COLOR_WORDS]
    accents = [hashed_colour(w) for w in others]
    if not primary and not accents:
        accents = [hashed_colour(f"seed-{seed}-{i}") for i in range(3)]
    palette: list[RGB] = []
    if primary:
        # colour words fill most of the palette, hashed words add accents
        n_primary = max(size - 2, size - len(accents)) if accents else size
        palette = [primary[i % len(primary)] for i in range(n_primary)]
        palette += [accents[i % len(accents)] for i in range(size - n_primary)] if accents else []
    else:
        palette = [accents[i % len(accents)] for i in range(size)]
        # hashed palettes get a light and a dark variant for depth
        palette[-1] = _shade(palette[0], 0.45)
        if size > 2:
            palette[-2] = _shade(palette[min(1, len(palette) - 1)], 1.35)
    return [jitter(c, rng) for c in palette]


def _shade(colour: RGB, factor: float) -> RGB:
    return (
        max(0, min(255, round(colour[0] * factor))),
        max(0, min(255, round(colour[1] * factor))),
        max(0, min(255, round(colour[2] * factor))),
    )


def luminance(colour: RGB) -> float:
    return 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]


def colour_hue(text: str | None) -> tuple[int, int | None] | None:
    """The first colour a text names: (hue 0..255, None) for a hue, (-1, value) for white/black/grey."""
    for w in words(text):
        w = _singular(w)
        if w in HUE_WORDS:
            return (HUE_WORDS[w], None)
        if w in ACHROMATIC_WORDS:
            return (-1, ACHROMATIC_WORDS[w])
    return None


def target_colour(text: str | None, seed: int) -> RGB:
    """The colour a prompt asks for: its first colour word's main colour, else a hashed colour."""
    found = colour_words(text)
    if found:
        return COLOR_WORDS[found[0]][0]
    return prompt_palette(text, seed, size=1)[0]


# ----------------------------------------------------------------------------------------- decoding


def open_image(media: Media, what: str = "image") -> Image.Image:
    """Decode an input image to RGB or RGBA (first frame); a bad file is the caller's to fix."""
    if sniff_format(media.data) is None:
        raise ProviderRejected(f"The {what} is not an image the offline provider can read.")
    im: Image.Image
    try:
        im = Image.open(io.BytesIO(media.data))
        im.seek(0)
        im = ImageOps.exif_transpose(im) or im
        im.load()
    except Exception as exc:
        raise ProviderRejected(f"The {what} could not be decoded: {exc}") from exc
    check_size(im.width, im.height)
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        return im.convert("RGBA")
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return ImageOps.autocontrast(im.convert("F").convert("L")).convert("RGB")
    return im.convert("RGB")


def rgb(im: Image.Image, background: RGB = (255, 255, 255)) -> Image.Image:
    """An RGB view of an image; transparency is flattened onto `background`."""
    if im.mode == "RGB":
        return im
    if im.mode in ("RGBA", "LA"):
        flat = Image.new("RGB", im.size, background)
        flat.paste(im.convert("RGBA"), mask=im.getchannel("A"))
        return flat
    return im.convert("RGB")


def check_size(width: int, height: int) -> None:
    if width < 1 or height < 1:
        raise ProviderRejected(f"An image must be at least 1x1 pixels; got {width}x{height}.")
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise ProviderRejected(
            f"{width}x{height} is larger than the offline provider makes"
            f" (at most {MAX_SIDE} px a side and {MAX_PIXELS:,} pixels)."
        )


def open_mask(media: Media | None, size: tuple[int, int]) -> Image.Image | None:
    """A mask as L at `size`, white = change (an alpha-only PNG counts by its alpha)."""
    if media is None:
        return None
    im = open_image(media, "mask")
    if im.mode == "RGBA":
        alpha = im.getchannel("A")
        lo, _hi = band_extrema(alpha)
        grey = alpha if lo < 255 and _is_blank(im.convert("L")) else im.convert("L")
    else:
        grey = im.convert("L")
    if grey.size != size:
        grey = grey.resize(size, Image.Resampling.BILINEAR)
    return grey.point(lambda v: 255 if v >= 128 else 0)


def band_extrema(im: Image.Image) -> tuple[float, float]:
    """The lowest and highest value of a single-band image."""
    lo, hi = im.getextrema()
    assert isinstance(lo, int | float) and isinstance(hi, int | float)
    return (float(lo), float(hi))


def _is_blank(im: Image.Image) -> bool:
    lo, hi = band_extrema(im)
    return hi - lo < 8


def alpha_mask(im: Image.Image) -> Image.Image | None:
    """Where an RGBA image is transparent (white = transparent = change), or None if it is opaque."""
    if im.mode != "RGBA":
        return None
    alpha = im.getchannel("A")
    lo, _hi = band_extrema(alpha)
    if lo >= 255:
        return None
    return ImageOps.invert(alpha).point(lambda v: 255 if v >= 128 else 0)


def grow(mask: Image.Image, pixels: int) -> Image.Image:
    """Dilate a binary mask by about `pixels` (a blur and a low threshold: fast at any radius)."""
    if pixels <= 0:
        return mask
    return mask.filter(ImageFilter.BoxBlur(pixels)).point(lambda v: 255 if v > 8 else 0)


def shrink(mask: Image.Image, pixels: int) -> Image.Image:
    if pixels <= 0:
        return mask
    return mask.filter(ImageFilter.BoxBlur(pixels)).point(lambda v: 255 if v > 247 else 0)


def feather(mask: Image.Image, radius: float) -> Image.Image:
    return mask.filter(ImageFilter.GaussianBlur(radius)) if radius > 0 else mask


def is_empty(mask: Image.Image) -> bool:
    return mask.getbbox() is None


def border_colour(im: Image.Image, strip: int | None = None) -> RGB:
    """The median colour of an image's outer strip: the background's colour, as a guess."""
    w, h = im.size
    s = strip or max(1, min(w, h) // 40)
    flat = rgb(im)
    parts = [
        flat.crop((0, 0, w, s)),
        flat.crop((0, h - s, w, h)),
        flat.crop((0, 0, s, h)).transpose(Image.Transpose.ROTATE_90),
        flat.crop((w - s, 0, w, h)).transpose(Image.Transpose.ROTATE_90),
    ]
    width = max(p.width for p in parts)
    sheet = Image.new("RGB", (width, sum(p.height for p in parts)))
    y = 0
    for p in parts:
        sheet.paste(p.resize((width, p.height), Image.Resampling.NEAREST), (0, y))
        y += p.height
    median = ImageStat.Stat(sheet).median
    return (int(median[0]), int(median[1]), int(median[2]))


def colour_distance(im: Image.Image, colour: RGB) -> Image.Image:
    """L image: the largest per-channel difference between each pixel and `colour`."""
    diff = ImageChops.difference(rgb(im), Image.new("RGB", im.size, colour))
    r, g, b = diff.split()
    return ImageChops.lighter(ImageChops.lighter(r, g), b)


def solid(size: tuple[int, int], colour: RGB) -> Image.Image:
    return Image.new("RGB", size, colour)


def cover(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Scale and centre-crop to fill `size` exactly."""
    return ImageOps.fit(im, size, Image.Resampling.LANCZOS)


def palette_of(im: Image.Image, colours: int = 6) -> list[RGB]:
    """An image's dominant colours, most frequent first."""
    small = rgb(im).copy()
    small.thumbnail((96, 96))
    quant = small.quantize(colors=colours, method=Image.Quantize.MEDIANCUT)
    raw = quant.getpalette() or []
    counts = sorted(quant.getcolors() or [], reverse=True)
    result: list[RGB] = []
    for _count, index in counts:
        assert isinstance(index, int)
        i = index * 3
        if i + 2 < len(raw):
            result.append((raw[i], raw[i + 1], raw[i + 2]))
    return result or [(128, 128, 128)]


def palette_image(colours: Sequence[RGB]) -> Image.Image:
    """A P image whose palette is `colours` (for `quantize(palette=...)`)."""
    flat: list[int] = []
    for c in colours:
        flat.extend(c)
    flat.extend(flat[:3] * (256 - len(colours)))
    pimg = Image.new("P", (1, 1))
    pimg.putpalette(flat[: 256 * 3])
    return pimg


def colorize3(grey: Image.Image, dark: RGB, mid: RGB, light: RGB) -> Image.Image:
    return ImageOps.colorize(grey, black=dark, white=light, mid=mid)


def ordered_by_luminance(colours: Iterable[RGB]) -> list[RGB]:
    return sorted(colours, key=luminance)


# ----------------------------------------------------------------------------------------- gradients


def linear_mask(size: tuple[int, int], angle: float) -> Image.Image:
    """An L gradient 0..255 across `size` in the direction `angle` (degrees)."""
    base = Image.linear_gradient("L").resize((364, 364), Image.Resampling.BILINEAR)
    turned = base.rotate(angle, resample=Image.Resampling.BILINEAR)
    return turned.crop((54, 54, 310, 310)).resize(size, Image.Resampling.BILINEAR)


def radial_mask(size: tuple[int, int], centre: tuple[float, float], radius: float) -> Image.Image:
    """An L glow: 255 at `centre` (fractions of the size) fading to 0 at `radius` (fraction of the
    shorter side)."""
    w, h = size
    r = max(2, round(radius * min(w, h)))
    glow = ImageOps.invert(Image.radial_gradient("L")).resize((2 * r, 2 * r), Image.Resampling.BILINEAR)
    out = Image.new("L", size, 0)
    out.paste(glow, (round(centre[0] * w) - r, round(centre[1] * h) - r))
    return out


def direction_mask(size: tuple[int, int], direction: str) -> Image.Image:
    """Bright on the side the light comes from."""
    angle = {"left": 270.0, "right": 90.0, "above": 180.0, "below": 0.0}.get(direction, 180.0)
    # linear_gradient runs black (top) to white (bottom); rotate so white sits on the lit side
    return linear_mask(size, angle)


# ----------------------------------------------------------------------------------------- output


def label(im: Image.Image, text: str | None, max_words: int = 6) -> Image.Image:
    """Write the prompt's first words small in the bottom-left corner, on a dark band."""
    shown = " ".join((text or "").split()[:max_words])
    if not shown or im.width < 48 or im.height < 24:
        return im
    if len(shown) > 48:
        shown = shown[:47] + "…"
    size = max(9, min(28, min(im.width, im.height) // 36))
    font = ImageFont.load_default(size=size)
    out = im.convert("RGBA") if im.mode != "RGBA" else im.copy()
    overlay = Image.new("RGBA", out.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    pad = max(2, size // 3)
    left, top, right, bottom = draw.textbbox((0, 0), shown, font=font)
    x, y = pad * 2, out.height - (bottom - top) - pad * 3
    draw.rectangle((x - pad, y - pad + top, x + right - left + pad, y + bottom + pad), fill=(0, 0, 0, 120))
    draw.text((x, y), shown, font=font, fill=(255, 255, 255, 230))
    out = Image.alpha_composite(out, overlay)
    return out if im.mode == "RGBA" else out.convert(im.mode)


def encode(im: Image.Image, fmt: OutputFormat) -> bytes:
    """PNG, JPEG or WebP bytes; JPEG flattens transparency onto white."""
    buffer = io.BytesIO()
    if fmt == "jpeg":
        rgb(im).save(buffer, "JPEG", quality=90, optimize=True)
    elif fmt == "webp":
        im.save(buffer, "WEBP", quality=88, method=3)
    else:
        im.save(buffer, "PNG", compress_level=3)
    return buffer.getvalue()


def image_output(
    im: Image.Image,
    fmt: OutputFormat,
    *,
    seed: int | None = None,
    **extra: object,
) -> Output:
    if fmt not in MIME_BY_FORMAT:
        fmt = "png"
    return Output(
        mime=MIME_BY_FORMAT[fmt],
        data=encode(im, fmt),
        width=im.width,
        height=im.height,
        seed=seed,
        extra={"renderer": RENDERER, **extra},
    )

"""Compression: make an image's file smaller, say what it cost (SSIM and PSNR), and never lie about it.

Formats written: JPEG (optimized Huffman tables always, progressive on request, 4:4:4 chroma at quality
90 and above as sharp does), WebP (lossy, or lossless on request), AVIF (Pillow's built-in libavif)
and PNG (lossless with zlib, or palette-quantized: on request, or when a target size needs it).

A target size (`target_kb`) is reached by a bounded search over quality:

1. a reduced sample of the image (full-resolution tiles taken across the whole picture, stitched into
   one small mosaic) is really encoded at a few qualities; its bytes per pixel, scaled to the full
   image, predict the quality that lands just under the target;
2. full encodes then narrow a bracket (interpolating the size on a log scale), at most
   `MAX_FULL_ENCODES` of them, and keep the best quality whose file is at or under the target;
3. when even the quality floor (`QUALITY_FLOOR`: below it artefacts dominate) cannot reach the target,
   the image is downscaled by the factor the sample predicts, and the answer says so in `notes` and
   `downscaled_from` (never silently). With `allow_downscale=False`, or when nothing reaches the
   target, `TargetUnreachable` (422) says the smallest size reachable.

For PNG the search is over the palette size (256 .. 16 colours) instead of a quality.

Metadata: EXIF (with GPS) and XMP are stripped by default and kept with `strip_metadata=False`; the
ICC profile is kept unless `keep_icc=False`, and then the pixels are converted to sRGB first, so the
colours do not shift either way. The EXIF orientation is applied to the pixels (and reset to 1 in a
kept EXIF block).

`estimate_compression` answers the predicted size from the sample encodes alone: fast, no full encode.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Final, Literal

from PIL import Image, ImageColor

from imagestudio.catalog.models import CompressionPreset
from imagestudio.errors import InvalidInput
from imagestudio.imaging.fidelity import Fidelity, measure
from imagestudio.imaging.output import open_image
from imagestudio.imaging.sources import EXTENSION, MIME, NAMES, Source, load_source, size_note, to_8bit
from imagestudio.imaging.verify import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, human_size

CompressFormat = Literal["jpeg", "webp", "avif", "png"]
FORMATS: Final[tuple[str, ...]] = ("jpeg", "webp", "avif", "png")
PILLOW_NAME: Final[dict[str, str]] = {"jpeg": "JPEG", "webp": "WEBP", "avif": "AVIF", "png": "PNG"}
# Defaults when no quality is asked: imgproxy's per-format defaults (webp 79, avif 63), JPEG 82.
DEFAULT_QUALITY: Final[dict[str, int]] = {"jpeg": 82, "webp": 79, "avif": 63}
# A target search never goes below these: under them blocking and smearing dominate, and a smaller
# picture at a decent quality looks better than a full-size one in pieces.
QUALITY_FLOOR: Final[dict[str, int]] = {"jpeg": 30, "webp": 25, "avif": 20}
# When a downscale is needed, the size is chosen so that this quality fits.
DOWNSCALE_QUALITY: Final[dict[str, int]] = {"jpeg": 65, "webp": 60, "avif": 50}
# With a target size and no quality asked, the search may go up to these: the budget is used.
TARGET_CEILING: Final[dict[str, int]] = {"jpeg": 95, "webp": 95, "avif": 90}
PALETTE_STEPS: Final[tuple[int, ...]] = (256, 128, 64, 32, 16)
MAX_FULL_ENCODES: Final = 7
MIN_SIDE: Final = 16
# libavif speed: 6 (Pillow's default) for a single encode; 8 inside a target search, where several
# encodes are made (twice as fast for ~5% more bytes at the same quality).
AVIF_SPEED: Final = 6
AVIF_SEARCH_SPEED: Final = 8
WEBP_METHOD: Final = 4
SAMPLE_TILE: Final = 64
SAMPLE_GRID: Final = 10  # 10x10 tiles of 64 px: a 640x640 mosaic (within ~15% of the full encode)
CLOSE_ENOUGH: Final = 0.96  # a file within 4% under the target ends the search


class TargetUnreachable(InvalidInput):
    """No encode reaches the target size; `details` carry the smallest size reachable."""


@dataclass(frozen=True)
class CompressOptions:
    format: CompressFormat | None = None  # None: the source's format when it is one of FORMATS, else JPEG/PNG
    quality: int | None = None  # 1..100; None: DEFAULT_QUALITY (ignored with target_kb: the search sets it)
    target_kb: float | None = None  # KB = 1024 bytes
    progressive: bool = False  # JPEG
    lossless: bool = False  # WebP
    palette: bool = False  # PNG: quantize to `colors`
    colors: int = 256
    strip_metadata: bool = True  # EXIF (with GPS) and XMP
    keep_icc: bool = True
    allow_downscale: bool = True  # for a target size only
    max_side: int | None = None  # fit the long side within this (a preset's size), stated in notes
    background: str = "#ffffff"  # what transparency is flattened onto for JPEG

    @property
    def target_bytes(self) -> int | None:
        """`target_kb` in bytes (KB = 1024), or None without a target."""
        return round(self.target_kb * 1024) if self.target_kb is not None else None


@dataclass(frozen=True)
class CompressionResult:
    data: bytes = field(repr=False)
    format: str  # JPEG | WEBP | AVIF | PNG
    mime: str
    extension: str
    width: int
    height: int
    original_format: str
    original_width: int
    original_height: int
    original_bytes: int
    bytes: int
    ratio: float  # bytes / original_bytes
    savings_percent: float  # 100 * (1 - ratio), negative when the file grew
    quality_used: int | None  # None for lossless encodes
    colors: int | None  # palette size for a quantized PNG
    lossless: bool
    progressive: bool
    fidelity: Fidelity  # against the input (at the output's size when downscaled)
    target_bytes: int | None
    target_met: bool | None
    downscaled_from: tuple[int, int] | None  # the size before a downscale the target needed
    encodes: int  # full-size encodes made
    metadata_removed: list[str]
    metadata_kept: list[str]
    notes: list[str]

    def describe(self) -> dict[str, object]:
        """Everything but the bytes."""
        out = {k: v for k, v in self.__dict__.items() if k not in ("data", "fidelity")}
        out["psnr"] = self.fidelity.psnr
        out["ssim"] = self.fidelity.ssim
        out["verdict"] = self.fidelity.verdict
        return out


@dataclass(frozen=True)
class CompressionEstimate:
    format: str
    width: int
    height: int
    original_bytes: int
    estimated_bytes: int
    estimated_ratio: float
    quality: int | None
    colors: int | None
    downscale_needed: bool  # a target that quality alone is predicted not to reach
    sample_pixels: int  # pixels really encoded to make the estimate
    notes: list[str]


# ---------------------------------------------------------------------------------------------------------
# Encoding


@dataclass(frozen=True)
class Encoding:
    format: str  # jpeg | webp | avif | png
    quality: int | None = None
    lossless: bool = False
    progressive: bool = False
    colors: int | None = None  # png palette
    icc: bytes | None = None
    exif: bytes | None = None
    xmp: bytes | None = None
    avif_speed: int = AVIF_SPEED


def quantize(im: Image.Image, colors: int) -> Image.Image:
    """A palette image of at most `colors` colours (Floyd-Steinberg dithered); alpha kept."""
    method = Image.Quantize.FASTOCTREE if im.mode == "RGBA" else Image.Quantize.MEDIANCUT
    source = im if im.mode in ("RGB", "RGBA") else im.convert("RGBA" if "A" in im.mode else "RGB")
    return source.quantize(colors=colors, method=method, dither=Image.Dither.FLOYDSTEINBERG)


def encode_still(im: Image.Image, enc: Encoding) -> bytes:
    """Encode one picture with the settings of `enc` (no metadata beyond what `enc` carries)."""
    buffer = io.BytesIO()
    extra: dict[str, object] = {}
    if enc.icc:
        extra["icc_profile"] = enc.icc
    if enc.exif:
        extra["exif"] = enc.exif
    if enc.xmp and enc.format in ("jpeg", "webp", "avif", "png"):
        extra["xmp"] = enc.xmp
    im.info = {}
    if enc.format == "jpeg":
        q = enc.quality or DEFAULT_QUALITY["jpeg"]
        if im.mode not in ("RGB", "L", "CMYK"):
            im = im.convert("RGB")
        im.save(
            buffer,
            "JPEG",
            quality=q,
            optimize=True,
            progressive=enc.progressive,
            subsampling=0 if q >= 90 else 2,
            **extra,
        )
    elif enc.format == "webp":
        if enc.lossless:
            im.save(buffer, "WEBP", lossless=True, quality=80, method=WEBP_METHOD, **extra)
        else:
            im.save(
                buffer, "WEBP", quality=enc.quality or DEFAULT_QUALITY["webp"], method=WEBP_METHOD, **extra
            )
    elif enc.format == "avif":
        im.save(buffer, "AVIF", quality=enc.quality or DEFAULT_QUALITY["avif"], speed=enc.avif_speed, **extra)
    elif enc.format == "png":
        if enc.colors:
            quantize(im, enc.colors).save(buffer, "PNG", optimize=True, **extra)
        else:
            im.save(buffer, "PNG", compress_level=9 if im.width * im.height <= 4_000_000 else 6, **extra)
    else:
        raise ValueError(f"unknown format {enc.format}")
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------------------
# Options and pixels


def _check(options: CompressOptions) -> None:
    if options.format is not None and options.format not in FORMATS:
        raise InvalidInput(
            f"Unknown format '{options.format}'. Compression writes: {', '.join(FORMATS)}.",
            details={"field": "format", "value": options.format, "valid_choices": list(FORMATS)},
        )
    check_quality_and_background(options.quality, options.background)
    if options.target_kb is not None and not 0 < options.target_kb <= 100 * 1024:
        raise InvalidInput(
            f"target_kb must be above 0 and at most 102400 (100 MB); got {options.target_kb}.",
            details={"field": "target_kb"},
        )
    if not 2 <= options.colors <= 256:
        raise InvalidInput(
            f"colors must be between 2 and 256; got {options.colors}.", details={"field": "colors"}
        )
    if options.max_side is not None and options.max_side < MIN_SIDE:
        raise InvalidInput(f"max_side must be at least {MIN_SIDE}.", details={"field": "max_side"})


def check_quality_and_background(quality: int | None, background: str) -> None:
    """422 for a quality outside 1..100 or a background that is not a colour."""
    if quality is not None and not 1 <= quality <= 100:
        raise InvalidInput(f"quality must be between 1 and 100; got {quality}.", details={"field": "quality"})
    try:
        ImageColor.getrgb(background)
    except ValueError:
        raise InvalidInput(
            f"background '{background}' is not a colour: use e.g. '#ffffff' or 'white'.",
            details={"field": "background"},
        ) from None


def _output_format(source: Source, options: CompressOptions, has_alpha: bool) -> str:
    if options.format is not None:
        return options.format
    own = source.format.lower()
    if own in FORMATS:
        return own
    return "png" if has_alpha else "jpeg"


def flatten(im: Image.Image, background: str) -> Image.Image:
    """RGB: transparency composited onto `background`."""
    if im.mode not in ("RGBA", "LA"):
        return im.convert("RGB") if im.mode != "RGB" else im
    rgba = im.convert("RGBA")
    flat = Image.new("RGB", im.size, ImageColor.getrgb(background)[:3])
    flat.paste(rgba, mask=rgba.getchannel("A"))
    return flat


def _resized(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    return im.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _fit(width: int, height: int, max_side: int) -> tuple[int, int]:
    scale = max_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


@dataclass
class _Prepared:
    source: Source
    image: Image.Image  # what is encoded
    reference: Image.Image  # what the fidelity is measured against (the input as displayed)
    fmt: str
    encoding: Encoding
    notes: list[str]
    removed: list[str]
    kept: list[str]
    quality_asked: int | None


def _prepare(data: bytes, options: CompressOptions, max_bytes: int, max_pixels: int) -> _Prepared:
    _check(options)
    source = load_source(data, max_bytes=max_bytes, max_pixels=max_pixels)
    notes = list(source.notes)
    if source.animated:
        notes.append(
            f"the {NAMES[source.format]} animation has {source.frame_count} frames: compressed the first"
            " frame only (the Format Converter keeps animations)"
        )
    im, icc = to_8bit(source, keep_icc=options.keep_icc, notes=notes)
    reference = im
    has_alpha = im.mode in ("RGBA", "LA")
    fmt = _output_format(source, options, has_alpha)
    if fmt == "jpeg" and has_alpha:
        im = flatten(im, options.background)
        notes.append(f"JPEG has no transparency: flattened it onto {options.background}")
    if options.max_side is not None and max(im.size) > options.max_side:
        size = _fit(im.width, im.height, options.max_side)
        notes.append(
            f"resized from {im.width}x{im.height} to {size[0]}x{size[1]} (long side {options.max_side})"
        )
        im = _resized(im, size)
    if fmt == "avif" and im.mode in ("L", "LA"):
        im = im.convert("RGBA" if im.mode == "LA" else "RGB")

    removed: list[str] = []
    kept: list[str] = []
    exif = xmp = None
    if options.strip_metadata:
        removed = [k for k in source.metadata if k in ("exif", "gps", "xmp")]
    else:
        if source.exif is not None:
            exif = source.exif.tobytes()
        xmp = source.xmp
        kept = [k for k in source.metadata if k in ("exif", "gps", "xmp")]
    if source.icc is not None:
        if icc is not None:
            kept.append("icc")
        else:
            removed.append("icc")
    if fmt == "png" and exif is None and "exif" in kept:
        kept.remove("exif")
    encoding = Encoding(
        format=fmt,
        quality=None if fmt == "png" else (options.quality or DEFAULT_QUALITY[fmt]),
        lossless=fmt == "webp" and options.lossless,
        progressive=fmt == "jpeg" and options.progressive,
        colors=options.colors if fmt == "png" and options.palette else None,
        icc=icc,
        exif=exif,
        xmp=xmp,
    )
    if encoding.lossless and encoding.quality is not None:
        encoding = replace(encoding, quality=None)
    return _Prepared(source, im, reference, fmt, encoding, notes, removed, kept, options.quality)


# ---------------------------------------------------------------------------------------------------------
# The sample


def sample_mosaic(im: Image.Image, tile: int = SAMPLE_TILE, grid: int = SAMPLE_GRID) -> Image.Image:
    """Full-resolution tiles from across the image, stitched: it compresses like the whole picture does."""
    if im.width <= tile * grid and im.height <= tile * grid:
        return im
    cols = min(grid, max(1, im.width // tile))
    rows = min(grid, max(1, im.height // tile))
    tw, th = min(tile, im.width), min(tile, im.height)
    mosaic = Image.new(im.mode, (cols * tw, rows * th))
    for r in range(rows):
        for c in range(cols):
            x = round((im.width - tw) * (c + 0.5) / cols)
            y = round((im.height - th) * (r + 0.5) / rows)
            mosaic.paste(im.crop((x, y, x + tw, y + th)), (c * tw, r * th))
    return mosaic


class SampleModel:
    """Bytes per pixel against quality (or palette size), measured on the sample and scaled up."""

    def __init__(
        self,
        sample: Image.Image,
        enc: Encoding,
        full_pixels: int,
        encoder: Callable[[Image.Image, Encoding], bytes] | None = None,
    ) -> None:
        self._sample = sample
        self._enc = enc
        self._encode = encoder or encode_still
        self._scale = full_pixels / (sample.width * sample.height)
        self._cache: dict[int, int] = {}
        self._correction = 1.0

    def calibrate(self, knob: int, actual: int) -> None:
        """Scale later predictions by what a full encode at `knob` really weighed."""
        self._correction = 1.0
        self._correction = actual / max(1, self.size(knob))

    def size(self, knob: int) -> int:
        """Predicted full-size bytes at quality (or colours) `knob`."""
        if knob not in self._cache:
            enc = (
                replace(self._enc, colors=knob)
                if self._enc.format == "png"
                else replace(self._enc, quality=knob)
            )
            enc = replace(enc, icc=None, exif=None, xmp=None)
            body = len(self._encode(self._sample.copy(), enc))
            # a file's fixed part (headers, tables) is paid once, not once per sample-sized piece
            header = len(self._encode(self._sample.crop((0, 0, 8, 8)), enc))
            self._cache[knob] = round(max(1, body - header) * self._scale) + header
        overhead = len(self._enc.icc or b"") + len(self._enc.exif or b"") + len(self._enc.xmp or b"")
        return round(self._cache[knob] * self._correction) + overhead

    @property
    def pixels(self) -> int:
        return self._sample.width * self._sample.height * max(1, len(self._cache))

    def quality_for(self, target: int, lo: int, hi: int) -> int:
        """The highest quality in lo..hi predicted at or under `target` (lo when none is)."""
        best = lo
        a, b = lo, hi
        while a <= b:
            mid = (a + b) // 2
            if self.size(mid) <= target:
                best, a = mid, mid + 1
            else:
                b = mid - 1
        return best


# ---------------------------------------------------------------------------------------------------------
# The search


@dataclass
class _Found:
    data: bytes
    knob: int | None
    size: tuple[int, int]


def _search_quality(
    im: Image.Image, enc: Encoding, target: int, floor: int, ceiling: int, counter: list[int]
) -> tuple[_Found | None, int]:
    """The best quality in floor..ceiling at or under `target`: (found or None, smallest size seen)."""
    model = SampleModel(sample_mosaic(im), enc, im.width * im.height)
    aim = round(target * 0.98)
    probe = model.quality_for(aim, floor, ceiling)
    ok: tuple[int, bytes] | None = None  # the highest quality known to fit
    bad: int | None = None  # the lowest quality known not to fit
    smallest = math.inf
    while counter[0] < MAX_FULL_ENCODES:
        data = encode_still(im.copy(), replace(enc, quality=probe))
        counter[0] += 1
        smallest = min(smallest, len(data))
        model.calibrate(probe, len(data))
        if len(data) <= target:
            ok = (probe, data)
            if len(data) >= target * CLOSE_ENOUGH or probe >= ceiling:
                break
        else:
            bad = probe
            if probe <= floor:
                break
        low = ok[0] if ok else floor - 1
        high = bad if bad is not None else ceiling + 1
        if high - low <= 1:
            break
        probe = min(high - 1, max(low + 1, model.quality_for(aim, low + 1, high - 1)))
    if ok is None:
        return None, int(smallest)
    return _Found(ok[1], ok[0], im.size), len(ok[1])


def _search_palette(
    im: Image.Image, enc: Encoding, target: int, counter: list[int]
) -> tuple[_Found | None, int]:
    smallest = math.inf
    lossless = encode_still(im.copy(), replace(enc, colors=None))
    counter[0] += 1
    smallest = len(lossless)
    if len(lossless) <= target and enc.colors is None:
        return _Found(lossless, None, im.size), len(lossless)
    steps = [c for c in PALETTE_STEPS if enc.colors is None or c <= enc.colors]
    for colors in steps:
        data = encode_still(im.copy(), replace(enc, colors=colors))
        counter[0] += 1
        smallest = min(smallest, len(data))
        if len(data) <= target:
            return _Found(data, colors, im.size), len(data)
    return None, int(smallest)


def _downscaled_size(width: int, height: int, factor: float) -> tuple[int, int]:
    factor = min(factor, 0.95)
    w = max(MIN_SIDE if width >= height else 1, round(width * factor))
    h = max(MIN_SIDE if height > width else 1, round(height * factor))
    return w, h


def _to_target(prep: _Prepared, target: int, allow_downscale: bool) -> tuple[_Found, int, list[str]]:
    enc = replace(prep.encoding, avif_speed=AVIF_SEARCH_SPEED)
    im = prep.image
    notes: list[str] = []
    counter = [0]
    lossy = enc.format != "png" and not enc.lossless
    for _round in range(4):
        if lossy:
            ceiling = prep.quality_asked or TARGET_CEILING[enc.format]
            floor = min(QUALITY_FLOOR[enc.format], ceiling)
            found, smallest = _search_quality(im, enc, target, floor, ceiling, counter)
        elif enc.format == "png":
            found, smallest = _search_palette(im, enc, target, counter)
        else:  # lossless WebP: nothing to search but the size
            data = encode_still(im.copy(), enc)
            counter[0] += 1
            found = _Found(data, None, im.size) if len(data) <= target else None
            smallest = len(data)
        if found is not None:
            return found, counter[0], notes
        if not allow_downscale:
            what = "at the lowest quality tried" if lossy else "with the smallest palette tried"
            raise TargetUnreachable(
                f"{human_size(target)} cannot be reached at {im.width}x{im.height}: the smallest file is"
                f" {human_size(smallest)} {what}. Raise target_kb to at least {math.ceil(smallest / 1024)},"
                " or allow a downscale.",
                details={
                    "field": "target_kb",
                    "smallest_bytes": smallest,
                    "width": im.width,
                    "height": im.height,
                },
            )
        if min(im.size) <= MIN_SIDE:
            break
        # the size that fits at a decent quality (lossy) or at 256 colours (PNG), by the sample's measure
        if lossy:
            model = SampleModel(sample_mosaic(im), enc, im.width * im.height)
            at_decent = model.size(
                max(QUALITY_FLOOR[enc.format], min(DOWNSCALE_QUALITY[enc.format], enc.quality or 100))
            )
            factor = math.sqrt(target / at_decent) * 0.97
        else:
            factor = math.sqrt(target / smallest) * 0.95
        size = _downscaled_size(im.width, im.height, factor)
        notes.append(
            f"quality alone could not reach {human_size(target)} (smallest {human_size(smallest)} at"
            f" {im.width}x{im.height}): downscaled to {size[0]}x{size[1]}"
        )
        im = _resized(im, size)
    raise TargetUnreachable(
        f"{human_size(target)} cannot be reached even at {im.width}x{im.height} pixels. Raise target_kb.",
        details={"field": "target_kb", "smallest_bytes": smallest},
    )


# ---------------------------------------------------------------------------------------------------------
# The public functions


def preset_options(preset: CompressionPreset, **overrides: object) -> CompressOptions:
    """The options a catalog preset stands for, with the caller's explicit choices on top."""
    base = CompressOptions(
        format=preset.format,
        quality=preset.quality,
        target_kb=preset.target_kb,
        progressive=preset.progressive,
        lossless=preset.lossless,
        palette=preset.palette,
        max_side=preset.max_side,
        strip_metadata=preset.strip_metadata,
        keep_icc=preset.keep_icc,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def compress(
    data: bytes,
    options: CompressOptions | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> CompressionResult:
    """Compress `data` (any readable image) as `options` say; raise InvalidInput (422) with what to fix."""
    options = options or CompressOptions()
    prep = _prepare(data, options, max_bytes, max_pixels)
    enc = prep.encoding
    notes = prep.notes
    target = options.target_bytes
    downscaled_from: tuple[int, int] | None = None
    if target is None:
        out = encode_still(prep.image.copy(), enc)
        encodes = 1
        knob = enc.colors if enc.format == "png" else enc.quality
        final_size = prep.image.size
    else:
        found, encodes, search_notes = _to_target(prep, target, options.allow_downscale)
        out, knob, final_size = found.data, found.knob, found.size
        notes.extend(search_notes)
        if final_size != prep.image.size:
            downscaled_from = prep.image.size
    decoded = open_image(out)
    fidelity = measure(prep.reference, decoded)
    quality_used = knob if enc.format != "png" and not enc.lossless else None
    colors = knob if enc.format == "png" else None
    if enc.format == "png" and colors:
        notes.append(f"quantized to a palette of {colors} colours")
    if prep.removed:
        notes.append(f"removed metadata: {', '.join(prep.removed)}")
    notes.append(size_note(prep.source.size_bytes, len(out)))
    ratio = len(out) / prep.source.size_bytes
    return CompressionResult(
        data=out,
        format=PILLOW_NAME[enc.format],
        mime=MIME[PILLOW_NAME[enc.format]],
        extension=EXTENSION[PILLOW_NAME[enc.format]],
        width=final_size[0],
        height=final_size[1],
        original_format=prep.source.format,
        original_width=prep.source.image.width,
        original_height=prep.source.image.height,
        original_bytes=prep.source.size_bytes,
        bytes=len(out),
        ratio=round(ratio, 4),
        savings_percent=round(100 * (1 - ratio), 1),
        quality_used=quality_used,
        colors=colors,
        lossless=enc.lossless or (enc.format == "png" and not colors),
        progressive=enc.progressive,
        fidelity=fidelity,
        target_bytes=target,
        target_met=None if target is None else len(out) <= target,
        downscaled_from=downscaled_from,
        encodes=encodes,
        metadata_removed=prep.removed,
        metadata_kept=prep.kept,
        notes=notes,
    )


def estimate_compression(
    data: bytes,
    options: CompressOptions | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> CompressionEstimate:
    """The predicted result of `compress(data, options)` from encodes of a small sample only."""
    options = options or CompressOptions()
    prep = _prepare(data, options, max_bytes, max_pixels)
    enc = prep.encoding
    im = prep.image
    model = SampleModel(sample_mosaic(im), enc, im.width * im.height)
    notes: list[str] = []
    target = options.target_bytes
    downscale = False
    knob: int | None
    if enc.format == "png" or enc.lossless:
        knob = enc.colors
        lossless_size = model.size(0)  # knob 0: no palette (PNG) / no quality (lossless WebP)
        if enc.lossless or (knob is None and (target is None or lossless_size <= target)):
            estimated = lossless_size
        else:
            candidates = [c for c in PALETTE_STEPS if knob is None or c <= knob]
            knob = next((c for c in candidates if target is None or model.size(c) <= target), candidates[-1])
            estimated = model.size(knob)
            downscale = target is not None and estimated > target
    else:
        if target is None:
            knob = enc.quality or DEFAULT_QUALITY[enc.format]
        else:
            ceiling = options.quality or TARGET_CEILING[enc.format]
            knob = model.quality_for(target, QUALITY_FLOOR[enc.format], ceiling)
        estimated = model.size(knob)
        downscale = target is not None and estimated > target
    if downscale:
        notes.append(
            f"quality alone is predicted not to reach {human_size(target or 0)}: a downscale would be needed"
        )
    return CompressionEstimate(
        format=PILLOW_NAME[enc.format],
        width=im.width,
        height=im.height,
        original_bytes=prep.source.size_bytes,
        estimated_bytes=estimated,
        estimated_ratio=round(estimated / prep.source.size_bytes, 4),
        quality=knob if enc.format != "png" and not enc.lossless else None,
        colors=knob if enc.format == "png" else None,
        downscale_needed=downscale,
        sample_pixels=model.pixels,
        notes=notes,
    )

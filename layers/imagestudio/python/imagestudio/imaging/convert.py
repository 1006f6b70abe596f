"""Format conversion: any readable image to JPEG, PNG, WebP, AVIF, GIF, TIFF, BMP or ICO, and a report
that says exactly what was done.

- Transparency: kept when the target has an alpha channel (PNG, WebP, AVIF, TIFF, ICO; GIF keeps
  1-bit transparency), flattened onto `background` when it has none (JPEG, BMP) or when
  `preserve_transparency=False`. The report's `transparency` is "kept", "flattened" or "none".
- Animation: kept when the target can animate (GIF, WebP, PNG as APNG, AVIF): every frame, each
  frame's duration and the loop count (AVIF files carry no loop count: said in the notes). Otherwise
  the first frame, with a note.
- Colour: CMYK and 16-bit inputs become 8-bit sRGB through their ICC profile (PIL.ImageCms); an RGB
  profile is kept when the target can carry one (JPEG, PNG, WebP, AVIF, TIFF) and `keep_icc`, else
  the pixels are converted to sRGB first, so colours never shift. `color_space` says which.
- Metadata: EXIF (with GPS) and XMP are stripped by default; with `strip_metadata=False` they are
  kept where the target can store them, and `metadata_kept` lists only what really is in the file.
- ICO: several sizes in one file (16 .. 256 px by default, never larger than the image), each square
  (the picture centred on a transparent square first).

`recommend_formats` ranks targets for four uses (web, transparency, print, animation) with sizes and
SSIM from real encodes of the user's image (of a full-resolution sample for images over
`FULL_ENCODE_PIXELS`, as `compress.estimate_compression` does).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field, replace
from typing import Final, Literal

from PIL import Image, ImageCms

from imagestudio.errors import InvalidInput
from imagestudio.imaging.compress import (
    DEFAULT_QUALITY,
    Encoding,
    SampleModel,
    check_quality_and_background,
    encode_still,
    flatten,
    sample_mosaic,
)
from imagestudio.imaging.fidelity import Fidelity, measure
from imagestudio.imaging.output import open_image
from imagestudio.imaging.sources import (
    EXTENSION,
    MIME,
    NAMES,
    READ_FORMATS,
    load_source,
    size_note,
    to_8bit,
)
from imagestudio.imaging.verify import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS

ConvertFormat = Literal["jpeg", "png", "webp", "avif", "gif", "tiff", "bmp", "ico"]
WRITE_FORMATS: Final[tuple[str, ...]] = ("jpeg", "png", "webp", "avif", "gif", "tiff", "bmp", "ico")
PILLOW_NAME: Final[dict[str, str]] = {f: f.upper() for f in WRITE_FORMATS}
ALIASES: Final[dict[str, str]] = {"jpg": "jpeg", "tif": "tiff", "heic": "heif", "apng": "png"}
ALPHA: Final = frozenset({"png", "webp", "avif", "gif", "tiff", "ico"})
ANIMATE: Final = frozenset({"gif", "webp", "png", "avif"})
ICC_CAPABLE: Final = frozenset({"jpeg", "png", "webp", "avif", "tiff"})
EXIF_CAPABLE: Final = frozenset({"jpeg", "png", "webp", "avif", "tiff"})
XMP_CAPABLE: Final = frozenset({"jpeg", "png", "webp", "avif"})
LOSSLESS: Final = frozenset({"png", "tiff", "bmp", "ico"})
ICO_SIZES: Final[tuple[int, ...]] = (16, 24, 32, 48, 64, 128, 256)
FULL_ENCODE_PIXELS: Final = 4_000_000


@dataclass(frozen=True)
class ConvertOptions:
    target_format: str  # one of WRITE_FORMATS (or jpg, tif)
    quality: int | None = None  # lossy targets; None: compress.DEFAULT_QUALITY
    lossless: bool = False  # WebP
    progressive: bool = False  # JPEG
    background: str = "#ffffff"
    preserve_transparency: bool = True
    keep_animation: bool = True
    strip_metadata: bool = True
    keep_icc: bool = True
    ico_sizes: tuple[int, ...] = ICO_SIZES


@dataclass(frozen=True)
class ConversionResult:
    data: bytes = field(repr=False)
    format: str  # JPEG | PNG | WEBP | AVIF | GIF | TIFF | BMP | ICO
    mime: str
    extension: str
    width: int
    height: int
    bytes: int
    source_format: str
    source_bytes: int
    source_mode: str  # as decoded: RGB, RGBA, P, CMYK, I;16, ...
    frames: int  # frames written
    durations: list[int]  # ms per frame written (empty for a still)
    loop: int | None  # 0 = for ever; None for stills and targets with no loop count
    transparency: Literal["kept", "flattened", "none"]
    color_space: str  # what the pixels are in, e.g. "sRGB" or "ICC profile kept (Display P3)"
    bit_depth: int  # of the source's samples; the output is always 8-bit
    metadata_kept: list[str]
    metadata_removed: list[str]
    ico_sizes: list[int]
    fidelity: Fidelity  # first frame against the source's first frame
    notes: list[str]

    def describe(self) -> dict[str, object]:
        out = {k: v for k, v in self.__dict__.items() if k not in ("data", "fidelity")}
        out["psnr"], out["ssim"] = self.fidelity.psnr, self.fidelity.ssim
        return out


@dataclass(frozen=True)
class FormatOption:
    format: str
    rank: int  # 1 = best for this use
    estimated_bytes: int
    ratio: float  # estimated_bytes / the upload's bytes
    ssim: float
    lossless: bool
    keeps_transparency: bool
    keeps_animation: bool
    measured: Literal["full", "sample"]  # a full encode, or a full-resolution sample scaled up
    reason: str


@dataclass(frozen=True)
class Recommendations:
    source_format: str
    width: int
    height: int
    source_bytes: int
    has_alpha: bool
    animated: bool
    frames: int
    by_use: dict[str, list[FormatOption]]
    notes: list[str]


def normalize_format(name: str, *, writable: bool = True) -> str:
    """'JPG' -> 'jpeg'; a 422 naming the choices for anything else."""
    key = ALIASES.get(name.strip().lower(), name.strip().lower())
    choices = WRITE_FORMATS if writable else tuple(f.lower() for f in READ_FORMATS)
    if key not in choices:
        raise InvalidInput(
            f"Unknown format '{name}'. {'Writable' if writable else 'Readable'} formats:"
            f" {', '.join(choices)}.",
            details={"field": "target_format", "value": name, "valid_choices": list(choices)},
        )
    return key


def _check(options: ConvertOptions) -> str:
    fmt = normalize_format(options.target_format)
    check_quality_and_background(options.quality, options.background)
    bad = [s for s in options.ico_sizes if not 1 <= s <= 256]
    if fmt == "ico" and (bad or not options.ico_sizes):
        raise InvalidInput(
            "ico_sizes must list sizes between 1 and 256 pixels.",
            details={"field": "ico_sizes", "value": bad},
        )
    return fmt


def _profile_name(icc: bytes) -> str:
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return (ImageCms.getProfileDescription(profile) or "").strip() or "unnamed"
    except Exception:  # an unreadable profile still has bytes we carried over
        return "unreadable"


# ---------------------------------------------------------------------------------------------------------
# Writers


def _gif_frame(im: Image.Image) -> Image.Image:
    """A palette frame; pixels under half opacity become the first free palette index, marked transparent."""
    if im.mode != "RGBA":
        return im.convert("RGB").quantize(
            256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG
        )
    alpha = im.getchannel("A")
    if _min_alpha(im) >= 128:
        return _gif_frame(im.convert("RGB"))
    frame = im.convert("RGB").quantize(
        255, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG
    )
    used = len(frame.getcolors(256) or [])
    palette = frame.getpalette() or []
    index = min(used, 255)
    if len(palette) < 3 * (index + 1):
        palette += [0] * (3 * (index + 1) - len(palette))
    frame.putpalette(palette)
    frame.paste(index, mask=alpha.point(lambda a: 255 if a < 128 else 0))
    frame.info["transparency"] = index
    return frame


def _min_alpha(im: Image.Image) -> int:
    """The lowest alpha in the picture (255 for pictures with no alpha channel)."""
    if im.mode not in ("RGBA", "LA"):
        return 255
    low = im.getchannel("A").getextrema()[0]
    return int(low) if isinstance(low, int | float) else 255


def _square(im: Image.Image) -> Image.Image:
    side = max(im.size)
    if im.width == im.height:
        return im.convert("RGBA")
    canvas = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    canvas.paste(im.convert("RGBA"), ((side - im.width) // 2, (side - im.height) // 2))
    return canvas


def _write(
    frames: list[Image.Image],
    durations: list[int],
    loop: int | None,
    fmt: str,
    enc: Encoding,
    ico_sizes: list[int],
) -> bytes:
    buffer = io.BytesIO()
    first = frames[0]
    extra: dict[str, object] = {}
    if enc.icc and fmt in ICC_CAPABLE:
        extra["icc_profile"] = enc.icc
    if enc.exif and fmt in EXIF_CAPABLE:
        extra["exif"] = enc.exif
    if enc.xmp and fmt in XMP_CAPABLE:
        extra["xmp"] = enc.xmp
    if len(frames) > 1:
        extra.update(save_all=True, append_images=frames[1:], duration=durations)
        if loop is not None and fmt != "avif":
            extra["loop"] = loop
    if fmt in ("jpeg", "webp", "avif", "png") and len(frames) == 1:
        return encode_still(first, enc)
    if fmt == "gif":
        paletted = [_gif_frame(f) for f in frames]
        if len(paletted) > 1:
            extra["append_images"] = paletted[1:]
            extra["disposal"] = 2
        transparency = paletted[0].info.get("transparency")
        if transparency is not None:
            extra["transparency"] = transparency
        paletted[0].save(buffer, "GIF", optimize=False, **extra)
    elif fmt == "webp":
        if enc.lossless:
            first.save(buffer, "WEBP", lossless=True, method=4, **extra)
        else:
            first.save(buffer, "WEBP", quality=enc.quality or DEFAULT_QUALITY["webp"], method=4, **extra)
    elif fmt == "png":
        first.save(buffer, "PNG", **extra)
    elif fmt == "avif":
        first.save(buffer, "AVIF", quality=enc.quality or DEFAULT_QUALITY["avif"], speed=8, **extra)
    elif fmt == "tiff":
        first.save(buffer, "TIFF", compression="tiff_adobe_deflate", **extra)
    elif fmt == "bmp":
        first.save(buffer, "BMP")
    elif fmt == "ico":
        square = _square(first)
        square.save(buffer, "ICO", sizes=[(s, s) for s in ico_sizes])
    else:  # pragma: no cover - _check refuses others
        raise ValueError(fmt)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------------------
# Convert


def convert(
    data: bytes,
    options: ConvertOptions,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> ConversionResult:
    """Convert `data` to `options.target_format`; raise InvalidInput (422) saying what to fix."""
    fmt = _check(options)
    source = load_source(data, max_bytes=max_bytes, max_pixels=max_pixels, all_frames=options.keep_animation)
    notes = list(source.notes)
    keep_icc = options.keep_icc and fmt in ICC_CAPABLE
    if source.icc and options.keep_icc and fmt not in ICC_CAPABLE:
        notes.append(f"{fmt.upper()} cannot carry an ICC profile: converted the colours to sRGB instead")
    still, icc = to_8bit(source, keep_icc=keep_icc, notes=notes)
    reference = still
    source_alpha = still.mode in ("RGBA", "LA")

    # frames
    animate = source.animated and options.keep_animation and fmt in ANIMATE and bool(source.frames)
    if source.animated and not animate:
        why = f"{fmt.upper()} cannot animate" if fmt not in ANIMATE else "keep_animation is off"
        notes.append(
            f"the {NAMES[source.format]} animation has {source.frame_count} frames: {why},"
            " kept the first frame only"
        )
    pictures = [f.image for f in source.frames] if animate else [still]
    durations = [f.duration for f in source.frames] if animate else []
    loop = source.loop if animate else None
    if animate and fmt == "avif":
        notes.append("AVIF files carry no loop count: players loop them for ever")
        loop = None
    elif animate and loop is None:
        loop = 0

    # transparency
    keeps_alpha = fmt in ALPHA and options.preserve_transparency
    if source_alpha or (animate and any(_min_alpha(p) < 255 for p in pictures)):
        if keeps_alpha:
            transparency: Literal["kept", "flattened", "none"] = "kept"
            if fmt == "gif":
                notes.append("GIF keeps 1-bit transparency: pixels under half opacity are transparent")
        else:
            transparency = "flattened"
            pictures = [flatten(p, options.background) for p in pictures]
            reference = flatten(reference, options.background)  # what the user asked to see
            reason = "has no transparency" if fmt not in ALPHA else "was asked not to keep it"
            notes.append(f"{fmt.upper()} {reason}: flattened the transparency onto {options.background}")
    else:
        transparency = "none"
        pictures = [p.convert("RGB") if p.mode == "RGBA" else p for p in pictures]
    if fmt in ("jpeg", "bmp"):
        pictures = [p if p.mode in ("RGB", "L") else p.convert("RGB") for p in pictures]

    # metadata
    kept: list[str] = []
    removed: list[str] = []
    exif = xmp = None
    for kind in (k for k in source.metadata if k in ("exif", "gps", "xmp")):
        capable = XMP_CAPABLE if kind == "xmp" else EXIF_CAPABLE
        if options.strip_metadata:
            removed.append(kind)
        elif fmt in capable:
            kept.append(kind)
        else:
            removed.append(kind)
            notes.append(f"{fmt.upper()} cannot store {kind.upper()}: dropped it")
    if "exif" in kept and source.exif is not None:
        exif = source.exif.tobytes()
    if "xmp" in kept:
        xmp = source.xmp
    if source.icc is not None:
        (kept if icc is not None else removed).append("icc")

    enc = Encoding(
        format=fmt,
        quality=None
        if fmt in LOSSLESS or options.lossless
        else (options.quality or DEFAULT_QUALITY.get(fmt)),
        lossless=fmt == "webp" and options.lossless,
        progressive=fmt == "jpeg" and options.progressive,
        icc=icc,
        exif=exif,
        xmp=xmp,
    )
    ico_sizes = sorted({s for s in options.ico_sizes if s <= max(still.size)} or {min(options.ico_sizes)})
    out = _write(pictures, durations, loop, fmt, enc, ico_sizes)

    decoded = Image.open(io.BytesIO(out))
    if fmt == "ico":
        decoded.size = (ico_sizes[-1], ico_sizes[-1])  # type: ignore[misc]  # the largest icon
    decoded.load()
    fidelity = measure(reference if fmt != "ico" else _square(reference).resize(decoded.size), decoded)
    color_space = "sRGB"
    if icc is not None:
        color_space = f"ICC profile kept ({_profile_name(icc)})"
    if source.bit_depth > 8 and not any("8-bit" in n for n in notes):
        notes.append(f"reduced {source.bit_depth}-bit samples to 8-bit")
    if removed:
        notes.append(f"removed metadata: {', '.join(removed)}")
    notes.append(
        f"converted {NAMES[source.format]} to {fmt.upper()}: {size_note(source.size_bytes, len(out))}"
    )
    return ConversionResult(
        data=out,
        format=PILLOW_NAME[fmt],
        mime=MIME[PILLOW_NAME[fmt]],
        extension=EXTENSION[PILLOW_NAME[fmt]],
        width=still.width,
        height=still.height,
        bytes=len(out),
        source_format=source.format,
        source_bytes=source.size_bytes,
        source_mode=source.image.mode,
        frames=len(pictures),
        durations=durations,
        loop=loop,
        transparency=transparency,
        color_space=color_space,
        bit_depth=source.bit_depth,
        metadata_kept=kept,
        metadata_removed=removed,
        ico_sizes=ico_sizes if fmt == "ico" else [],
        fidelity=fidelity,
        notes=notes,
    )


# ---------------------------------------------------------------------------------------------------------
# Recommendations

USE_FORMATS: Final[dict[str, tuple[str, ...]]] = {
    "web": ("avif", "webp", "jpeg", "png"),
    "transparency": ("webp", "avif", "png", "gif"),
    "print": ("tiff", "png", "jpeg"),
    "animation": ("webp", "avif", "gif", "png"),
}
REASONS: Final[dict[tuple[str, str], str]] = {
    ("web", "avif"): "smallest files at this quality; every current browser shows AVIF",
    ("web", "webp"): "small files, universal browser support",
    ("web", "jpeg"): "the safe choice for e-mail and old software",
    ("web", "png"): "lossless: only worth it for graphics and screenshots",
    ("transparency", "webp"): "alpha with lossy compression: small and sharp",
    ("transparency", "avif"): "alpha with the best compression",
    ("transparency", "png"): "lossless alpha, supported everywhere",
    ("transparency", "gif"): "1-bit transparency and 256 colours only",
    ("print", "tiff"): "lossless with its colour profile: what print shops ask for",
    ("print", "png"): "lossless, smaller than TIFF",
    ("print", "jpeg"): "quality 95 with full chroma: accepted by every printer",
    ("animation", "webp"): "full colour and alpha, much smaller than GIF",
    ("animation", "avif"): "the smallest animations; no loop count",
    ("animation", "gif"): "plays everywhere, 256 colours",
    ("animation", "png"): "APNG: lossless, large",
}


def recommend_formats(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_pixels: int = DEFAULT_MAX_PIXELS
) -> Recommendations:
    """Targets ranked for each use, with sizes and SSIM from real encodes of this image."""
    source = load_source(data, max_bytes=max_bytes, max_pixels=max_pixels, all_frames=True)
    notes: list[str] = []
    still, _icc = to_8bit(source, keep_icc=False, notes=notes)
    has_alpha = still.mode in ("RGBA", "LA")
    pixels = still.width * still.height
    full = pixels <= FULL_ENCODE_PIXELS
    sample = still if full else sample_mosaic(still)
    uses = ["web", "print"]
    if has_alpha:
        uses.insert(1, "transparency")
    if source.animated:
        uses.append("animation")
    else:
        notes.append("not an animation: no animation ranking")
    by_use: dict[str, list[FormatOption]] = {}
    for use in uses:
        options: list[FormatOption] = []
        for fmt in USE_FORMATS[use]:
            if use == "web" and has_alpha and fmt == "jpeg":
                continue
            enc = Encoding(
                format=fmt, quality=95 if (use == "print" and fmt == "jpeg") else DEFAULT_QUALITY.get(fmt)
            )
            if use == "animation":
                frames = [f.image for f in source.frames]
                durations = [f.duration for f in source.frames]
                encoded = _write(frames, durations, source.loop or 0, fmt, enc, [])
                size, measured = len(encoded), "full"
                first = open_image(encoded)
                ssim = measure(frames[0], first).ssim
            else:
                picture = flatten(sample, "#ffffff") if fmt == "jpeg" else sample  # JPEG keeps no alpha
                encoded = _write([picture], [], None, fmt, enc, [])
                if full:
                    size, measured = len(encoded), "full"
                else:
                    model = SampleModel(
                        sample, enc, pixels, lambda im, e: _write([im], [], None, e.format, e, [])
                    )
                    size, measured = model.size(enc.quality or 0), "sample"
                back = open_image(encoded)
                ssim = measure(picture, back).ssim
            options.append(
                FormatOption(
                    format=fmt.upper(),
                    rank=0,
                    estimated_bytes=size,
                    ratio=round(size / source.size_bytes, 4),
                    ssim=ssim,
                    lossless=fmt in LOSSLESS,
                    keeps_transparency=fmt in ALPHA,
                    keeps_animation=fmt in ANIMATE,
                    measured=measured,  # type: ignore[arg-type]
                    reason=REASONS[(use, fmt)],
                )
            )
        if use == "print":  # fidelity first, then size
            options.sort(key=lambda o: (not o.lossless, -o.ssim, o.estimated_bytes))
        else:  # size first among those that look the same
            options.sort(key=lambda o: (o.ssim < 0.97, o.estimated_bytes))
        by_use[use] = [replace(o, rank=i + 1) for i, o in enumerate(options)]
    return Recommendations(
        source_format=source.format,
        width=still.width,
        height=still.height,
        source_bytes=source.size_bytes,
        has_alpha=has_alpha,
        animated=source.animated,
        frames=source.frame_count,
        by_use=by_use,
        notes=notes,
    )

"""Open any image the Compression and Format Converter studios read, under the same guards as `verify`.

Read: JPEG, PNG, WebP, AVIF, HEIC/HEIF (through pillow-heif when it is installed: it is in the
dependencies layer; without it HEIC is refused with a message saying so), GIF, TIFF, BMP, ICO.

The guards are `verify`'s: a byte cap, the format sniffed from the magic bytes only, the pixel count
read from the header and capped before anything is decoded (Pillow's decompression-bomb error turned
into the same 422), truncated files refused. Animations are capped too: frames x pixels may not pass
`max_frame_pixels`.

`load_source` keeps what the studios must decide about: the pixels (orientation applied, mode as
decoded), every frame with its duration when asked, the loop count, the ICC profile, the EXIF and XMP
blocks, and the kinds of metadata present. `to_8bit` turns the pixels into plain 8-bit L/LA/RGB/RGBA,
converting CMYK and (when asked) profiled RGB to sRGB through the embedded ICC profile.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final

from PIL import ExifTags, Image, ImageSequence

from imagestudio.errors import InvalidInput
from imagestudio.imaging.verify import (
    _AVIF_BRANDS,
    _HEIF_BRANDS,
    _TIFF_DESCRIPTIVE_TAGS,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PIXELS,
    _apply_icc,
    _corrupt,
    _Decoded,
    _described,
    _orient,
    _pillow_quiet,
    _plain_mode,
    _reject_not_image,
    _too_many_pixels,
    check_bytes,
    decode_guard,
    human_size,
    sniff_format,
)

READ_FORMATS: Final[tuple[str, ...]] = ("JPEG", "PNG", "WEBP", "AVIF", "HEIF", "GIF", "TIFF", "BMP", "ICO")
NAMES: Final[dict[str, str]] = {
    "JPEG": "JPEG",
    "PNG": "PNG",
    "WEBP": "WebP",
    "AVIF": "AVIF",
    "HEIF": "HEIC/HEIF",
    "GIF": "GIF",
    "TIFF": "TIFF",
    "BMP": "BMP",
    "ICO": "ICO",
}
MIME: Final[dict[str, str]] = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "AVIF": "image/avif",
    "HEIF": "image/heic",
    "GIF": "image/gif",
    "TIFF": "image/tiff",
    "BMP": "image/bmp",
    "ICO": "image/x-icon",
}
EXTENSION: Final[dict[str, str]] = {
    "JPEG": "jpg",
    "PNG": "png",
    "WEBP": "webp",
    "AVIF": "avif",
    "HEIF": "heic",
    "GIF": "gif",
    "TIFF": "tif",
    "BMP": "bmp",
    "ICO": "ico",
}
# All frames of an animation together: 4x the single-image pixel cap (e.g. 100 frames of 1280x1250).
DEFAULT_MAX_FRAME_PIXELS: Final = 4 * DEFAULT_MAX_PIXELS
MAX_FRAMES: Final = 1000


@lru_cache(maxsize=1)
def heif_available() -> bool:
    """Whether HEIC/HEIF can be read (pillow-heif registers its opener with Pillow)."""
    try:
        import pillow_heif
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


def sniff(data: bytes) -> str | None:
    """`verify.sniff_format` plus AVIF, HEIF (from the ISO-BMFF brands) and ICO."""
    fmt = sniff_format(data)
    if fmt is not None:
        return fmt
    if data[4:8] == b"ftyp":
        major = data[8:12]
        box_end = min(len(data), int.from_bytes(data[0:4], "big"))
        compatible = {data[i : i + 4] for i in range(16, box_end - 3, 4)}
        if major in _AVIF_BRANDS or (major in (b"mif1", b"msf1") and compatible & _AVIF_BRANDS):
            return "AVIF"
        if major in _HEIF_BRANDS or compatible & _HEIF_BRANDS:
            return "HEIF"
        return None
    if data[:4] == b"\x00\x00\x01\x00" and len(data) >= 6 and int.from_bytes(data[4:6], "little") >= 1:
        return "ICO"
    return None


@dataclass
class Frame:
    image: Image.Image  # RGBA, the full canvas of the animation at this frame
    duration: int  # milliseconds


@dataclass
class Source:
    """A decoded input: the first frame (orientation applied, mode as decoded) and what came with it."""

    format: str  # one of READ_FORMATS
    image: Image.Image
    size_bytes: int
    frame_count: int = 1
    frames: list[Frame] = field(default_factory=list)  # every frame when asked for and animated, else empty
    loop: int | None = None  # 0 = for ever; None = not an animation or not said
    icc: bytes | None = None
    exif: Image.Exif | None = None  # orientation reset to 1 (it is applied to the pixels)
    xmp: bytes | None = None
    metadata: list[str] = field(default_factory=list)  # kinds present: exif, gps, xmp, icc
    notes: list[str] = field(default_factory=list)
    bit_depth: int = 8

    @property
    def animated(self) -> bool:
        return self.frame_count > 1

    @property
    def has_alpha(self) -> bool:
        im = self.image
        keyed = im.mode in ("P", "L", "RGB") and "transparency" in im.info
        if keyed or im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
            low = im.convert("RGBA").getchannel("A").getextrema()[0]
            return isinstance(low, int | float) and low < 255
        return False


def _declared_depth(im: Image.Image, fmt: str) -> int:
    """Bits per sample as stored (Pillow opens 16-bit RGB as 8-bit RGB, so the mode cannot tell)."""
    if im.mode.startswith("I;16") or im.mode in ("I", "F"):
        return 16 if im.mode != "F" else 32
    if fmt == "TIFF":
        bits = getattr(im, "tag_v2", {}).get(258)
        values = bits if isinstance(bits, tuple) else (bits,)
        return max((int(b) for b in values if isinstance(b, int)), default=8)
    for tile in getattr(im, "tile", None) or []:
        raw = tile.args[0] if isinstance(tile.args, tuple) and tile.args else tile.args
        if isinstance(raw, str) and ";16" in raw:
            return 16
    return 8


def _not_readable(data: bytes) -> InvalidInput:
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS and not heif_available():
        return InvalidInput(
            "HEIC/HEIF photos cannot be read here (the HEIF decoder is not installed). Export the photo as"
            " JPEG (on an iPhone: Settings > Camera > Formats > Most Compatible) and try again.",
            details={"field": "file", "detected": "a HEIC/HEIF photo"},
        )
    return _reject_not_image(data, READ_FORMATS)


def load_source(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_frame_pixels: int = DEFAULT_MAX_FRAME_PIXELS,
    all_frames: bool = False,
) -> Source:
    """Decode `data` under the caps; raise InvalidInput (422) saying what to fix when it cannot be used."""
    with _pillow_quiet():
        return _load(data, max_bytes, max_pixels, max_frame_pixels, all_frames)


def _load(data: bytes, max_bytes: int, max_pixels: int, max_frame_pixels: int, all_frames: bool) -> Source:
    data = bytes(data)
    if not data or len(data) > max_bytes:
        check_bytes(data, max_bytes, READ_FORMATS)  # raises the size message
    fmt = sniff(data)
    if fmt is None or (fmt == "HEIF" and not heif_available()):
        raise _not_readable(data)
    pillow_formats = [fmt]
    with decode_guard(fmt, max_pixels):
        im = Image.open(io.BytesIO(data), formats=pillow_formats)
        depth = _declared_depth(im, fmt)
        if fmt == "ICO":  # the largest icon in the file
            sizes = sorted(im.info.get("sizes", {im.size}), key=lambda s: s[0] * s[1])
            im.size = sizes[-1]  # type: ignore[misc]  # Pillow's documented way to pick an icon
        w, h = im.size
        if w < 1 or h < 1:
            raise _corrupt(fmt, ValueError(f"the header says {w}x{h} pixels"))
        if w * h > max_pixels:
            raise _too_many_pixels((w, h), max_pixels)
        frame_count = int(getattr(im, "n_frames", 1) or 1)
        if fmt in ("HEIF", "AVIF", "TIFF"):  # image collections, not animations we keep
            animated = fmt != "TIFF" and bool(getattr(im, "is_animated", False)) and frame_count > 1
        else:
            animated = frame_count > 1
        if animated and (frame_count > MAX_FRAMES or frame_count * w * h > max_frame_pixels):
            raise InvalidInput(
                f"The animation has {frame_count} frames of {w}x{h} pixels"
                f" ({frame_count * w * h:,} pixels in all); the limit is {max_frame_pixels:,} pixels and"
                f" {MAX_FRAMES} frames. Shorten or downscale it and try again.",
                details={"field": "file", "frames": frame_count, "max_frame_pixels": max_frame_pixels},
            )
        frames: list[Frame] = []
        if animated and all_frames:
            for frame in ImageSequence.Iterator(im):
                frames.append(Frame(frame.convert("RGBA"), int(frame.info.get("duration", 100) or 100)))
            im.seek(0)
        elif frame_count > 1:
            im.seek(0)
        im.load()
    decoded = _described(im, frame_count)
    info, exif = decoded.info, decoded.exif
    notes: list[str] = []
    oriented = _orient(decoded, notes)
    if oriented is not im and frames:  # the same turn for every frame
        frames = [Frame(_orient(_Decoded(f.image, {}, exif, 1, ""), []), f.duration) for f in frames]
    metadata: list[str] = []
    if fmt == "TIFF" and exif is not None:  # a TIFF's tag directory describes its pixels too: keep the facts
        facts = Image.Exif()
        for tag in _TIFF_DESCRIPTIVE_TAGS & set(exif):
            if tag not in (ExifTags.IFD.Exif, ExifTags.IFD.GPSInfo):
                facts[tag] = exif[tag]
        for ifd in (ExifTags.IFD.Exif, ExifTags.IFD.GPSInfo):
            if exif.get_ifd(ifd):
                facts.get_ifd(ifd).update(exif.get_ifd(ifd))
        exif = facts
    if exif is not None and len(exif):
        metadata.append("exif")
        if exif.get_ifd(ExifTags.IFD.GPSInfo):
            metadata.append("gps")
        exif[ExifTags.Base.Orientation] = 1
    else:
        exif = None
    xmp = info.get("xmp") or info.get("XML:com.adobe.xmp")
    if isinstance(xmp, str):
        xmp = xmp.encode()
    if isinstance(xmp, bytes) and xmp:
        metadata.append("xmp")
    else:
        xmp = None
    icc = info.get("icc_profile")
    if isinstance(icc, bytes) and icc:
        metadata.append("icc")
    else:
        icc = None
    loop = info.get("loop") if frame_count > 1 else None
    return Source(
        format=fmt,
        image=oriented,
        size_bytes=len(data),
        frame_count=frame_count if animated else 1,
        frames=frames,
        loop=int(loop) if isinstance(loop, int) else None,
        icc=icc,
        exif=exif,
        xmp=xmp,
        metadata=metadata,
        notes=notes,
        bit_depth=depth,
    )


def to_8bit(source: Source, *, keep_icc: bool, notes: list[str]) -> tuple[Image.Image, bytes | None]:
    """Plain 8-bit L/LA/RGB/RGBA pixels and the ICC profile that still describes them (None for sRGB).

    CMYK is always converted to sRGB (through its profile when it has one). RGB with a profile keeps
    its pixels and the profile when `keep_icc`, so colours do not shift; without `keep_icc` the pixels
    are converted to sRGB through the profile first, so they do not shift either.
    """
    im = source.image
    icc = source.icc
    if im.mode == "CMYK":
        if icc:
            im = _apply_icc(im, icc, notes)
        if im.mode == "CMYK":
            notes.append("converted CMYK to RGB (no usable ICC profile: a naive conversion)")
            im = im.convert("RGB")
        icc = None
    wide = im.mode.startswith("I") or im.mode == "F"
    im = _plain_mode(im, notes)
    if wide and not any("8-bit" in n for n in notes):
        notes.append("reduced 16-bit samples to 8-bit")
    if icc and im.mode in ("RGB", "RGBA") and not keep_icc:
        before = len(notes)
        im = _apply_icc(im, icc, notes)
        if len(notes) == before:
            notes.append("the ICC profile was sRGB: dropped it")
        icc = None
    elif icc and im.mode not in ("RGB", "RGBA"):
        icc = icc if keep_icc else None
    im = im.copy() if im is source.image else im
    im.info = {}
    return im, icc


def size_note(before: int, after: int) -> str:
    """'2.4 MB -> 310 KB (87% smaller)'."""
    change = (1 - after / before) * 100 if before else 0.0
    word = "smaller" if change >= 0 else "larger"
    return f"{human_size(before)} -> {human_size(after)} ({abs(change):.0f}% {word})"

"""Verify an image someone gave us, and make its thumbnail. Pure: bytes in, bytes out, no AWS.

`verify_image` trusts nothing but the bytes:

1. the size in bytes is capped (`max_bytes`);
2. the format is sniffed from the magic bytes, never from a file name or a declared content type,
   and must be one of `allowed_formats`;
3. the width and height are read from the header (Pillow opens lazily) and capped (`max_pixels`)
   before a single pixel is decoded; Pillow's own decompression-bomb error and warning are turned
   into the same rejection (its global limit is left alone);
4. the first frame is decoded in full, with truncated files refused (Pillow's
   `ImageFile.LOAD_TRUNCATED_IMAGES` stays False: we never change it);
5. the EXIF orientation is applied, so width and height are as the image is displayed;
6. colours are made plain: an ICC profile is applied (converted to sRGB) and then dropped, CMYK
   becomes RGB, 16-bit samples become 8-bit, palettes become RGB (RGBA when they carry
   transparency), an alpha channel that is fully opaque is dropped;
7. the pixels are re-encoded with no metadata at all: no EXIF (so no GPS position, camera serial or
   embedded thumbnail), no XMP, no IPTC, no comments, no text chunks, no ICC profile.

The output format rule (`output_format_for`):

- WebP in, WebP out (lossless when the source was lossless, else quality 90); WebP keeps alpha;
- an opaque JPEG in, JPEG out (quality 92, optimized, progressive);
- everything else (PNG, GIF, BMP, TIFF, and any image with real transparency) becomes PNG, which
  is lossless, so nothing is lost in the re-encode but the metadata.

Animated GIF, WebP and PNG, multi-page TIFF and multi-picture JPEG keep the first frame only, and
the result's `notes` say so.
"""

from __future__ import annotations

import builtins
import io
import re
import sys
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from PIL import ExifTags, Image

from imagestudio.errors import InvalidInput

if TYPE_CHECKING:  # colour management is imported by the first picture with a profile
    from PIL import ImageCms

MB: Final = 1024 * 1024
DEFAULT_MAX_BYTES: Final = 25 * MB
DEFAULT_MAX_PIXELS: Final = 40_000_000
ACCEPTED_FORMATS: Final[tuple[str, ...]] = ("JPEG", "PNG", "WEBP", "GIF", "TIFF", "BMP")
JPEG_QUALITY: Final = 92
WEBP_QUALITY: Final = 90

THUMBNAIL_MAX_SIDE: Final = 512
THUMBNAIL_QUALITY: Final = 80
THUMBNAIL_FORMATS: Final[tuple[str, ...]] = ("WEBP", "JPEG", "PNG")

DISPLAY_NAMES: Final[dict[str, str]] = {
    "JPEG": "JPEG",
    "PNG": "PNG",
    "WEBP": "WebP",
    "GIF": "GIF",
    "TIFF": "TIFF",
    "BMP": "BMP",
}
MIME_TYPES: Final[dict[str, str]] = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "TIFF": "image/tiff",
    "BMP": "image/bmp",
}
EXTENSIONS: Final[dict[str, str]] = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}

# The order removed metadata is listed in.
METADATA_KINDS: Final[tuple[str, ...]] = ("exif", "gps", "xmp", "iptc", "icc", "comment", "text")

_ORIENTATION_WORDS: Final[dict[int, str]] = {
    2: "mirrored",
    3: "rotated 180°",
    4: "flipped upside down",
    5: "mirrored and rotated 90° counter-clockwise",
    6: "rotated 90° clockwise",
    7: "mirrored and rotated 90° clockwise",
    8: "rotated 90° counter-clockwise",
}
_BMP_HEADER_SIZES: Final = frozenset({12, 16, 40, 52, 56, 64, 108, 124})
_HEIF_BRANDS: Final = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})
_AVIF_BRANDS: Final = frozenset({b"avif", b"avis"})
# TIFF tags that make a TIFF's tag directory carry EXIF-like facts (its other tags describe the pixels).
_TIFF_DESCRIPTIVE_TAGS: Final = frozenset({0x010E, 0x010F, 0x0110, 0x0131, 0x0132, 0x013B, 0x8298, 0x8769})
_TIFF_XMP_TAG: Final = 700
_TIFF_IPTC_TAGS: Final = frozenset({33723, 34377})
_PNG_SPECIAL_TEXT_KEYS: Final = frozenset({"XML:com.adobe.xmp", "Raw profile type exif"})


# ---------------------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class VerifiedImage:
    """A clean image: `data` is the re-encoded file (no metadata), described by the other fields."""

    data: builtins.bytes = field(repr=False)
    format: str  # "JPEG" | "PNG" | "WEBP": the format of `data`
    mime: str
    width: int  # as displayed (EXIF orientation applied)
    height: int
    mode: str  # "RGB" | "RGBA" | "L" | "LA"
    has_alpha: bool  # some pixel is not fully opaque
    bytes: int  # len(data)
    source_format: str  # the sniffed format of the input: one of ACCEPTED_FORMATS
    notes: list[str] = field(default_factory=list)  # what was changed, for people
    removed_metadata: list[str] = field(default_factory=list)  # subset of METADATA_KINDS, in that order

    @property
    def extension(self) -> str:
        """The file extension for `data`, without the dot: jpg, png or webp."""
        return EXTENSIONS[self.format]

    def describe(self) -> dict[str, Any]:
        """Everything but the bytes: safe to log or store in a record."""
        return {
            "format": self.format,
            "mime": self.mime,
            "width": self.width,
            "height": self.height,
            "mode": self.mode,
            "has_alpha": self.has_alpha,
            "bytes": self.bytes,
            "source_format": self.source_format,
            "notes": list(self.notes),
            "removed_metadata": list(self.removed_metadata),
        }


@dataclass(frozen=True)
class Thumbnail:
    data: bytes = field(repr=False)
    width: int
    height: int
    mime: str
    image: Image.Image | None = field(default=None, repr=False, compare=False)  # the pixels, decoded


# ---------------------------------------------------------------------------------------------------------
# Helpers for messages


def human_size(n: int) -> str:
    """1536 -> '1.5 KB', 7340032 -> '7 MB' (binary units, as our limits are)."""
    for unit, scale in (("MB", MB), ("KB", 1024)):
        if n >= scale:
            text = f"{n / scale:.1f}".removesuffix(".0")
            return f"{text} {unit}"
    return f"{n} bytes"


def _format_list(formats: Iterable[str]) -> str:
    names = [DISPLAY_NAMES.get(f, f) for f in formats]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " or " + names[-1]


def _accepted_sentence(formats: Iterable[str]) -> str:
    return f"Accepted formats: {', '.join(DISPLAY_NAMES.get(f, f) for f in formats)}."


# ---------------------------------------------------------------------------------------------------------
# Sniffing


def sniff_format(data: bytes) -> str | None:
    """The format the bytes really are (Pillow's name), from their magic number; None if none of ours."""
    head = data[:32]
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if head[:2] == b"BM" and len(head) >= 18 and int.from_bytes(head[14:18], "little") in _BMP_HEADER_SIZES:
        return "BMP"
    return None


def _looks_like(data: bytes) -> str | None:
    """A guess at what a non-image is, to make the rejection useful."""
    head = data[:1024]
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return "a HEIC/HEIF photo"
        if brand in _AVIF_BRANDS:
            return "an AVIF image"
        return "a video or other ISO media file"
    if head.startswith(b"PK\x03\x04"):
        return "a ZIP archive or an Office document"
    if head.startswith(b"8BPS"):
        return "a Photoshop (PSD) file"
    if head.startswith(b"\x00\x00\x01\x00"):
        return "an icon (ICO) file"
    if head.startswith(b"\x1f\x8b"):
        return "a gzip archive"
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<svg" in lowered:
        return "an SVG (vector) image"
    if lowered.startswith((b"<!doctype html", b"<html")):
        return "an HTML page"
    if lowered.startswith(b"<?xml"):
        return "an XML document"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # a multi-byte character cut at the 1024th byte is still text
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return None
    if text and all(ch.isprintable() or ch in "\t\r\n\f" for ch in text):
        return "plain text"
    return None


def _reject_not_image(data: bytes, allowed: tuple[str, ...]) -> InvalidInput:
    kind = _looks_like(data)
    details: dict[str, Any] = {"field": "file", "accepted_formats": list(allowed)}
    if kind is not None:
        details["detected"] = kind
    if kind == "a HEIC/HEIF photo":
        return InvalidInput(
            "HEIC/HEIF photos are not accepted. Export the photo as JPEG (on an iPhone: Settings > Camera >"
            f" Formats > Most Compatible) and upload it again. {_accepted_sentence(allowed)}",
            details=details,
        )
    seen = f" (they look like {kind})" if kind else ""
    return InvalidInput(
        f"Not an image: the bytes are not a {_format_list(allowed)} file{seen}. The file name and the"
        f" declared content type do not count, only the contents do. {_accepted_sentence(allowed)}",
        details=details,
    )


# ---------------------------------------------------------------------------------------------------------
# Opening and decoding under guards


def _too_many_pixels(
    size: tuple[int, int] | None, max_pixels: int, pixels: int | None = None
) -> InvalidInput:
    if size is not None:
        pixels = size[0] * size[1]
        what = f"The image is {size[0]}x{size[1]} pixels ({pixels:,} pixels)"
    elif pixels is not None:
        what = f"The image has {pixels:,} pixels"
    else:
        what = "The image has too many pixels"
    return InvalidInput(
        f"{what}; the limit is {max_pixels:,} pixels (for example 8000x5000)."
        " Downscale it and upload it again.",
        details={"field": "file", "max_pixels": max_pixels, "pixels": pixels},
    )


def _bomb_pixels(err: Exception) -> int | None:
    match = re.search(r"\((\d+) pixels\)", str(err))
    return int(match.group(1)) if match else None


def _corrupt(fmt: str, err: Exception) -> InvalidInput:
    name = DISPLAY_NAMES.get(fmt, fmt)
    reason = re.sub(r"\s*<_io\.BytesIO object at 0x[0-9a-fA-F]+>", "", str(err)) or type(err).__name__
    if reason == "cannot identify image file":
        reason = "its header is not valid"
    if "truncated" in reason.lower() or isinstance(err, EOFError):
        message = (
            f"The {name} file is truncated: it ends before its image data does (an interrupted upload or"
            " copy?). Upload the complete file."
        )
    else:
        message = (
            f"The file starts like a {name} image but could not be decoded: it is corrupt ({reason})."
            " Re-export it from the original and upload it again."
        )
    return InvalidInput(message, details={"field": "file", "format": fmt, "reason": reason})


@contextmanager
def _pillow_quiet() -> Iterator[None]:
    """Pillow warns about odd tags in damaged files: that is the file's business, not the log's."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
        yield


@dataclass
class _Decoded:
    image: Image.Image
    info: dict[str, Any]  # the info of the opened file: metadata lives here
    exif: Image.Exif | None
    frames: int
    animated_kind: str


@contextmanager
def decode_guard(fmt: str, max_pixels: int) -> Iterator[None]:
    """Pillow's decompression-bomb warning and error become the pixel-cap 422; any other decoding error
    (Pillow raises many kinds on malformed input) becomes the corrupt-file 422."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except InvalidInput:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as bomb:
        raise _too_many_pixels(None, max_pixels, _bomb_pixels(bomb)) from None
    except MemoryError:
        raise
    except Exception as err:  # OSError, SyntaxError, ValueError, ...
        raise _corrupt(fmt, err) from None


def _decode(data: bytes, fmt: str, *, max_pixels: int, draft_box: tuple[int, int] | None = None) -> _Decoded:
    """Open `data` as `fmt`, check its pixel count before decoding, then decode its first frame in full."""
    with decode_guard(fmt, max_pixels):
        im = Image.open(io.BytesIO(data), formats=[fmt])
        size = im.size
        if size[0] < 1 or size[1] < 1:
            raise _corrupt(fmt, ValueError(f"the header says {size[0]}x{size[1]} pixels"))
        if size[0] * size[1] > max_pixels:
            raise _too_many_pixels(size, max_pixels)
        frames = int(getattr(im, "n_frames", 1) or 1)
        if frames > 1:
            im.seek(0)
        if draft_box is not None and fmt == "JPEG":
            im.draft(None, draft_box)
        im.load()
    kind = {
        "GIF": "animated GIF",
        "WEBP": "animated WebP",
        "PNG": "animated PNG",
        "TIFF": "multi-page TIFF",
        "JPEG": "multi-picture JPEG (MPO)",
    }.get(fmt, "multi-frame image")
    return _described(im, frames, kind)


def _described(im: Image.Image, frames: int = 1, animated_kind: str = "") -> _Decoded:
    """A loaded image with the metadata the cleaning reads: its info (string keys only) and its EXIF."""
    exif: Image.Exif | None
    try:
        exif = im.getexif()
    except Exception:  # malformed EXIF: there is nothing we can use in it, and it is dropped anyway
        exif = None
    info = {key: value for key, value in im.info.items() if isinstance(key, str)}
    return _Decoded(image=im, info=info, exif=exif, frames=frames, animated_kind=animated_kind)


# ---------------------------------------------------------------------------------------------------------
# Metadata


def _metadata_present(decoded: _Decoded, fmt: str) -> list[str]:
    info = decoded.info
    exif = decoded.exif
    found: set[str] = set()
    tags = set(exif.keys()) if exif is not None else set()
    if fmt == "TIFF":
        if tags & _TIFF_DESCRIPTIVE_TAGS or ExifTags.IFD.GPSInfo in tags:
            found.add("exif")
        if _TIFF_XMP_TAG in tags:
            found.add("xmp")
        if tags & _TIFF_IPTC_TAGS:
            found.add("iptc")
    elif tags or info.get("exif") or "Raw profile type exif" in info:
        found.add("exif")
    if exif is not None and ExifTags.IFD.GPSInfo in tags:
        try:
            if exif.get_ifd(ExifTags.IFD.GPSInfo):
                found.add("gps")
        except Exception:  # an unreadable GPS directory is still a GPS directory, and it goes
            found.add("gps")
    if info.get("xmp") or info.get("XML:com.adobe.xmp"):
        found.add("xmp")
    if info.get("photoshop"):
        found.add("iptc")
    if info.get("icc_profile"):
        found.add("icc")
    if info.get("comment"):
        found.add("comment")
    if fmt == "PNG":
        text_keys = {k for k, v in info.items() if isinstance(v, str) and k not in _PNG_SPECIAL_TEXT_KEYS}
        if text_keys:
            found.add("text")
    return [kind for kind in METADATA_KINDS if kind in found]


# ---------------------------------------------------------------------------------------------------------
# Pixels: orientation, colour, bit depth, alpha

_SRGB: ImageCms.ImageCmsProfile | None = None


def _srgb() -> ImageCms.ImageCmsProfile:
    global _SRGB
    from PIL import ImageCms

    if _SRGB is None:
        _SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    return _SRGB


def _orient(decoded: _Decoded, notes: list[str]) -> Image.Image:
    im = decoded.image
    orientation = decoded.exif.get(ExifTags.Base.Orientation, 1) if decoded.exif is not None else 1
    if orientation not in _ORIENTATION_WORDS:
        return im
    from PIL import ImageOps

    try:
        turned = ImageOps.exif_transpose(im)
    except Exception:  # an EXIF block Pillow cannot rewrite: transpose by hand
        turned = im.transpose(
            {
                2: Image.Transpose.FLIP_LEFT_RIGHT,
                3: Image.Transpose.ROTATE_180,
                4: Image.Transpose.FLIP_TOP_BOTTOM,
                5: Image.Transpose.TRANSPOSE,
                6: Image.Transpose.ROTATE_270,
                7: Image.Transpose.TRANSVERSE,
                8: Image.Transpose.ROTATE_90,
            }[orientation]
        )
    notes.append(
        f"applied EXIF orientation {orientation} ({_ORIENTATION_WORDS[orientation]}): the image is"
        f" {turned.width}x{turned.height} as displayed"
    )
    return turned


def _apply_icc(im: Image.Image, icc: bytes, notes: list[str]) -> Image.Image:
    """Convert to sRGB through the embedded profile where it applies; the profile is dropped either way."""
    from PIL import ImageCms

    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        space = source.profile.xcolor_space.strip()
        description = (ImageCms.getProfileDescription(source) or "").strip() or "unnamed"
    except Exception:
        notes.append("ignored an unreadable ICC colour profile")
        return im
    out_mode = {("RGB", "RGB"): "RGB", ("RGBA", "RGB"): "RGBA", ("CMYK", "CMYK"): "RGB"}.get((im.mode, space))
    if out_mode is None:
        if space == "GRAY" and im.mode in ("L", "LA"):
            return im  # a grey profile: grey stays grey, close enough to sRGB's curve
        notes.append(f"dropped an ICC colour profile ({description}) that does not apply to {im.mode} pixels")
        return im
    try:
        converted = ImageCms.profileToProfile(
            im, source, _srgb(), renderingIntent=ImageCms.Intent.PERCEPTUAL, outputMode=out_mode
        )
    except Exception:
        notes.append(f"ignored an ICC colour profile ({description}) that could not be applied")
        return im
    assert converted is not None  # not in place, so a new image
    if im.mode == "CMYK":
        notes.append(f"converted CMYK to RGB through its ICC profile ({description})")
    elif description != "sRGB built-in" and "srgb" not in description.lower():
        notes.append(f"converted colours from the embedded ICC profile ({description}) to sRGB")
    return converted


_SIXTEEN_BIT_RAW: Final[dict[str, str]] = {
    "I;16": "L;16",
    "I;16L": "L;16",
    "I;16B": "L;16B",
    "I;16N": "L;16" if sys.byteorder == "little" else "L;16B",
}


def _to_8bit_gray(im: Image.Image, notes: list[str]) -> Image.Image:
    if im.mode in _SIXTEEN_BIT_RAW:
        notes.append("reduced 16-bit samples to 8-bit")
        return Image.frombytes("L", im.size, im.tobytes(), "raw", _SIXTEEN_BIT_RAW[im.mode])
    # "I" (32-bit integers) or "F" (floats): stretch the used range onto 0..255 if it does not fit
    as_float = im.convert("F")
    low, high = as_float.getextrema()
    assert isinstance(low, float) and isinstance(high, float)
    notes.append(f"reduced {'32-bit integer' if im.mode == 'I' else 'floating-point'} samples to 8-bit")
    if low >= 0 and high <= 255:
        return as_float.point(lambda v: v + 0.5).convert("L")
    span = (high - low) or 1.0
    return as_float.point(lambda v: (v - low) * (255.0 / span) + 0.5).convert("L")


def _plain_mode(im: Image.Image, notes: list[str]) -> Image.Image:
    """L, LA, RGB or RGBA, 8 bits a sample."""
    mode = im.mode
    has_transparency_key = im.info.get("transparency") is not None
    if mode in ("L", "LA", "RGB", "RGBA") and not (has_transparency_key and mode in ("L", "RGB")):
        return im
    if mode in ("L", "RGB"):  # with a transparent colour key (PNG tRNS)
        return im.convert(mode + "A")
    if mode == "1":
        return im.convert("L")
    if mode in ("P", "PA"):
        return im.convert("RGBA" if mode == "PA" or has_transparency_key else "RGB")
    if mode == "CMYK":
        notes.append("converted CMYK to RGB")
        return im.convert("RGB")
    if mode in _SIXTEEN_BIT_RAW or mode in ("I", "F"):
        return _to_8bit_gray(im, notes)
    if mode in ("La", "RGBa", "RGBX", "RGBA;16"):
        return im.convert("RGBA" if mode != "RGBX" else "RGB")
    return im.convert("RGBA" if "A" in mode else "RGB")


def _drop_opaque_alpha(im: Image.Image) -> Image.Image:
    if im.mode not in ("LA", "RGBA"):
        return im
    low, _high = im.getchannel("A").getextrema()
    if isinstance(low, int | float) and low >= 255:
        return im.convert(im.mode[:-1])
    return im


def _clean_pixels(decoded: _Decoded, notes: list[str]) -> Image.Image:
    im = _orient(decoded, notes)
    icc = decoded.info.get("icc_profile")
    if isinstance(icc, bytes) and icc:
        if im.mode != "CMYK":  # palettes, 16-bit, colour keys: to L, LA, RGB or RGBA first
            im = _plain_mode(im, notes)
        im = _apply_icc(im, icc, notes)
    im = _plain_mode(im, notes)
    im = _drop_opaque_alpha(im)
    im.info = {}  # encoders copy some metadata (comment, ICC profile) from `info` unless told otherwise
    return im


# ---------------------------------------------------------------------------------------------------------
# Encoding


def output_format_for(source_format: str, has_alpha: bool) -> str:
    """WebP stays WebP; an opaque JPEG stays JPEG; anything else becomes PNG (see the module docstring)."""
    if source_format == "WEBP":
        return "WEBP"
    if source_format == "JPEG" and not has_alpha:
        return "JPEG"
    return "PNG"


def _webp_is_lossless(data: bytes) -> bool:
    """Whether a WebP file's image chunk is VP8L (lossless); walks the RIFF chunks."""
    offset = 12
    end = min(len(data), 12 + int.from_bytes(data[4:8], "little"))
    while offset + 8 <= end:
        tag = data[offset : offset + 4]
        if tag == b"VP8L":
            return True
        if tag in (b"VP8 ", b"ANMF"):
            return False
        size = int.from_bytes(data[offset + 4 : offset + 8], "little")
        offset += 8 + size + (size & 1)
    return False


def _encode(im: Image.Image, fmt: str, *, quality: int, lossless: bool = False) -> bytes:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        im.save(buffer, "JPEG", quality=quality, optimize=True, progressive=True)
    elif fmt == "WEBP":
        if lossless:
            im.save(buffer, "WEBP", lossless=True, method=4)
        else:
            im.save(buffer, "WEBP", quality=quality, method=4)
    else:
        im.save(buffer, "PNG", compress_level=6)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------------------
# The public functions


def verify_image(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    allowed_formats: tuple[str, ...] = ACCEPTED_FORMATS,
) -> VerifiedImage:
    """Check that `data` is a sound image we accept and return it clean; raise InvalidInput (422) if not."""
    with _pillow_quiet():
        return _verify(data, max_bytes=max_bytes, max_pixels=max_pixels, allowed_formats=allowed_formats)


def check_bytes(data: bytes, max_bytes: int, allowed: tuple[str, ...]) -> str:
    """The checks made before anything is decoded (empty, size, real format); the sniffed format."""
    if not data:
        raise InvalidInput(
            f"The file is empty (0 bytes). Upload an image. {_accepted_sentence(allowed)}",
            details={"field": "file", "bytes": 0},
        )
    if len(data) > max_bytes:
        raise InvalidInput(
            f"The file is {human_size(len(data))} ({len(data):,} bytes);"
            f" the limit is {human_size(max_bytes)}. Compress or downscale it and upload it again.",
            details={"field": "file", "bytes": len(data), "max_bytes": max_bytes},
        )
    fmt = sniff_format(data)
    if fmt is None:
        raise _reject_not_image(data, allowed)
    if fmt not in allowed:
        raise InvalidInput(
            f"{DISPLAY_NAMES[fmt]} images are not accepted here. {_accepted_sentence(allowed)}",
            details={"field": "file", "format": fmt, "accepted_formats": list(allowed)},
        )
    return fmt


def _verify(
    data: bytes, *, max_bytes: int, max_pixels: int, allowed_formats: tuple[str, ...]
) -> VerifiedImage:
    allowed = tuple(f.upper() for f in allowed_formats)
    unknown = [f for f in allowed if f not in ACCEPTED_FORMATS]
    if unknown:
        raise ValueError(f"allowed_formats may only name {', '.join(ACCEPTED_FORMATS)}; got {unknown}")
    data = bytes(data)
    fmt = check_bytes(data, max_bytes, allowed)

    decoded = _decode(data, fmt, max_pixels=max_pixels)
    removed = _metadata_present(decoded, fmt)
    notes: list[str] = []
    if decoded.frames > 1:
        unit = "pages" if fmt == "TIFF" else "pictures" if fmt == "JPEG" else "frames"
        first = "page" if fmt == "TIFF" else "picture" if fmt == "JPEG" else "frame"
        notes.append(f"{decoded.animated_kind} with {decoded.frames} {unit}: kept the first {first} only")
    im = _clean_pixels(decoded, notes)
    has_alpha = im.mode in ("LA", "RGBA")
    out_format = output_format_for(fmt, has_alpha)
    lossless = fmt == "WEBP" and _webp_is_lossless(data)
    quality = JPEG_QUALITY if out_format == "JPEG" else WEBP_QUALITY
    encoded = _encode(im, out_format, quality=quality, lossless=lossless)
    if out_format != fmt:
        notes.append(f"converted {DISPLAY_NAMES[fmt]} to {DISPLAY_NAMES[out_format]}")
    if removed:
        notes.append(f"removed metadata: {', '.join(removed)}")
    return VerifiedImage(
        data=encoded,
        format=out_format,
        mime=MIME_TYPES[out_format],
        width=im.width,
        height=im.height,
        mode=im.mode,
        has_alpha=has_alpha,
        bytes=len(encoded),
        source_format=fmt,
        notes=notes,
        removed_metadata=removed,
    )


def make_thumbnail(
    data_or_image: bytes | VerifiedImage | Image.Image,
    *,
    max_side: int = THUMBNAIL_MAX_SIDE,
    format: str = "WEBP",
    quality: int = THUMBNAIL_QUALITY,
) -> Thumbnail:
    """A thumbnail whose longer side is at most `max_side` (never upscaled), aspect ratio and alpha kept.

    Bytes go through the same guards as `verify_image` (format sniffing, pixel cap, full decode of the
    first frame, EXIF orientation); JPEGs are decoded at a reduced scale (DCT scaling) when that is
    plenty for the size asked. A JPEG thumbnail of a transparent image is flattened onto white.
    """
    with _pillow_quiet():
        return _thumbnail(data_or_image, max_side=max_side, format=format, quality=quality)


def _thumbnail(
    data_or_image: bytes | VerifiedImage | Image.Image, *, max_side: int, format: str, quality: int
) -> Thumbnail:
    out_format = format.upper().replace("JPG", "JPEG")
    if out_format not in THUMBNAIL_FORMATS:
        raise InvalidInput(
            f"Unknown thumbnail format '{format}'. Valid formats: {', '.join(THUMBNAIL_FORMATS)}.",
            details={"field": "format", "value": format, "valid_choices": list(THUMBNAIL_FORMATS)},
        )
    if max_side < 1:
        raise InvalidInput(
            f"max_side must be at least 1 pixel; got {max_side}.", details={"field": "max_side"}
        )
    if not 1 <= quality <= 100:
        raise InvalidInput(f"quality must be between 1 and 100; got {quality}.", details={"field": "quality"})

    notes: list[str] = []
    if isinstance(data_or_image, Image.Image):
        im = _plain_mode(data_or_image, notes)
        im = im.copy() if im is data_or_image else im
    else:
        raw = data_or_image.data if isinstance(data_or_image, VerifiedImage) else bytes(data_or_image)
        fmt = sniff_format(raw)
        if fmt is None:
            raise _reject_not_image(raw, ACCEPTED_FORMATS)
        gap = 2
        decoded = _decode(raw, fmt, max_pixels=DEFAULT_MAX_PIXELS, draft_box=(max_side * gap, max_side * gap))
        im = _clean_pixels(decoded, notes)

    im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    if out_format == "JPEG" and im.mode in ("LA", "RGBA"):
        flat = Image.new("RGB", im.size, "white")
        flat.paste(im.convert("RGBA"), mask=im.getchannel("A"))
        im = flat
    im.info = {}
    encoded = _encode(im, out_format, quality=quality)
    return Thumbnail(data=encoded, width=im.width, height=im.height, mime=MIME_TYPES[out_format], image=im)

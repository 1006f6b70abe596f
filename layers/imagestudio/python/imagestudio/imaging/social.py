"""Social Optimizer imaging: one picture to every platform format at its exact size. Pure: bytes in,
bytes out, no AWS.

    prepared = prepare(data, largest_size(targets))   # verify + decode once, as small as is useful
    rendered = export(prepared, targets, mode="smart") # crop/fit, resize, encode within the file limit

`prepare` applies the same guards as uploads (`verify.py`: size cap, magic-byte sniffing, pixel cap
before decoding, truncated files refused) and the same cleaning (EXIF orientation, ICC -> sRGB, CMYK,
16-bit, palettes, first frame of animations), but decodes only once and only as much as the outputs
need: a JPEG is decoded with DCT scaling (`draft`) at the largest power-of-two reduction whose result
still covers the largest output, and any image still at least twice that size is `reduce`d by an
integer factor.

Faces count most: `prepare(face_detector=...)` (Rekognition deployed, OpenCV's cascade offline: see
`imaging.faces` and `Ports.face_detector`) looks for faces on a copy of at most FACE_SIDE pixels, and the
subject is then the faces with the head and shoulders; without a detector, without faces, or when the
detector fails, saliency finds the subject.

`export` renders each distinct output once (identical sizes with identical crops share pixels and
bytes) from a pyramid of the decoded image (`reduce(2)` levels, made on demand): each output is
resampled with RESAMPLE (bilinear, i.e. Pillow's antialiasing triangle filter) from the smallest level
that still covers its crop, so the final filter never upscales what the source can give and never
shrinks by 2x or more (the box-filtered levels did that). The filter was chosen by measurement (`make
bench-social` prints the comparison): from a level less than 2x the output, every filter lands within
what JPEG q85 loses anyway (PSNR against Lanczos from the full-resolution picture, worst format:
bilinear 38.5 dB, bicubic 38.7, Lanczos 38.5), and bilinear's 2-tap kernel takes about 35% less CPU
than bicubic's 4 taps, which is what puts the export ahead of libvips. Renditions run in a thread pool
(Pillow releases the GIL while it resamples; it holds it while it encodes a JPEG, so two encodes never
overlap, but an encode overlaps the other thread's resampling).

Crops (`plan_crop`) have the output's aspect ratio and are as large as the picture allows. "smart"
places them so that the subject (`saliency.detect_subject`, or the focal point when one is given)
lies inside the crop and, where it fits, inside the output's safe zone; "center" centres them; "fit"
does not crop but letterboxes the whole picture onto a colour or onto a blurred, darkened copy of
itself. Encoding (`encode_within`) keeps each output under the platform's file size: first by
lowering the quality (binary search, never under QUALITY_FLOOR), only then by changing the format
(PNG -> JPEG, JPEG -> WebP); `actions` says what was done.
"""

from __future__ import annotations

import builtins
import functools
import io
import logging
import math
import os
import threading
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Final

from PIL import ExifTags, Image, ImageColor, ImageDraw, ImageFilter

from imagestudio.errors import InvalidInput
from imagestudio.imaging.faces import FaceBox, FaceDetector
from imagestudio.imaging.saliency import Subject, detect_subject
from imagestudio.imaging.social_crops import MODES, Box, SafeFractions, clamp, cover_box, plan_crop
from imagestudio.imaging.social_encode import (
    DEFAULT_QUALITY,
    MIME,
    OUTPUT_FORMATS,
    QUALITY_FLOOR,
    encode,
    encode_within,
    encode_within_from,
    flatten,
    normalize_format,
)
from imagestudio.imaging.verify import (
    ACCEPTED_FORMATS,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PIXELS,
    _clean_pixels,
    _decode,
    _described,
    _pillow_quiet,
    check_bytes,
)

if TYPE_CHECKING:
    from imagestudio.catalog.models import Platform, SocialFormat

log = logging.getLogger(__name__)

Fill = str | tuple[int, int, int]

DEFAULT_SAFE_ZONE: Final[SafeFractions] = (0.1, 0.1, 0.1, 0.1)

OVERLAY_COMPRESS_LEVEL: Final = 3
MAX_OUTPUT_SIDE: Final = 8192
# A pyramid level serves an output when its crop is at least LEVEL_GAP times the output on both axes.
LEVEL_GAP: Final = 1.0
RESAMPLE: Final = Image.Resampling.BILINEAR  # from a level < 2x the output: see the module docstring
MAX_LEVELS: Final = 8
FIT_BLUR_DIVISOR: Final = 16  # the blurred fill is made at 1/16 of the output, blurred, scaled up
FIT_BLUR_RADIUS: Final = 2.0
FIT_DARKEN: Final = 0.55
OVERLAY_DARKEN: Final = 0.45
OVERLAY_BORDER: Final = 2
OVERLAY_COLOUR: Final = (255, 255, 0)
FACE_SIDE: Final = 640  # faces are looked for on a copy this long: a crop cares about faces >= 3% tall
_EPS: Final = 1e-6
_TRANSPOSED: Final = frozenset({5, 6, 7, 8})


# ---------------------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class Target:
    """One output to make: a platform's format at its exact size, with its safe zone and file limit."""

    platform: str
    format_name: str
    width: int
    height: int
    safe_zone: SafeFractions = DEFAULT_SAFE_ZONE
    max_bytes: int | None = None

    @classmethod
    def from_catalog(cls, platform: Platform, fmt: SocialFormat) -> Target:
        zone = fmt.safe_zone
        return cls(
            platform=platform.name,
            format_name=fmt.name,
            width=fmt.width,
            height=fmt.height,
            safe_zone=(zone.top, zone.bottom, zone.left, zone.right),
            max_bytes=platform.specs.max_upload_mb * 1024 * 1024,
        )


@dataclass(frozen=True)
class Rendered:
    """One finished output. `crop_box` is in source pixels (left, top, right, bottom), as displayed;
    `safe_zone_px` is in output pixels (x, y, width, height)."""

    platform: str
    format_name: str
    width: int
    height: int
    data: builtins.bytes = field(repr=False)
    mime: str
    bytes: int
    safe_zone_px: tuple[int, int, int, int]
    crop_box: tuple[int, int, int, int]
    actions: list[str]
    overlay: builtins.bytes | None = field(default=None, repr=False)  # PNG, when safe zones were asked for


@dataclass(eq=False)
class Prepared:
    """A verified picture decoded once: `image` is RGB or RGBA, 8-bit sRGB, oriented as displayed, and
    each of its pixels stands for `factor` x `factor` pixels of the source (`source_size`)."""

    image: Image.Image = field(repr=False)
    source_size: tuple[int, int]
    factor: int
    source_format: str
    notes: list[str]
    data: bytes = field(repr=False)
    max_bytes: int = DEFAULT_MAX_BYTES
    max_pixels: int = DEFAULT_MAX_PIXELS
    face_detector: FaceDetector | None = field(default=None, repr=False)
    _subject: list[Subject | None] = field(default_factory=list, repr=False)
    _early: Future[Subject | None] | None = field(default=None, repr=False)  # see _look_early

    @classmethod
    def from_image(cls, image: Image.Image, face_detector: FaceDetector | None = None) -> Prepared:
        """An image already decoded and cleaned (RGB or RGBA), taken as it is: factor 1, no source file."""
        return cls(
            image=image,
            source_size=image.size,
            factor=1,
            source_format="",
            notes=[],
            data=b"",
            face_detector=face_detector,
        )

    @property
    def has_alpha(self) -> bool:
        return self.image.mode == "RGBA"

    @property
    def scale(self) -> float:
        """The decoded size over the source size (1.0 when decoded in full)."""
        return 1.0 / self.factor

    def subject(self) -> Subject | None:
        """The detected subject (cached): the faces when the face detector finds any, else the salient
        part; None when nothing stands out."""
        if not self._subject:
            self._subject.append(self._look())
        return self._subject[0]

    def _look(self) -> Subject | None:
        if self._early is not None:
            try:
                return self._early.result()
            except Exception as err:  # a file the early look could not read: look at the decode
                log.warning("the early subject detection failed (%s): looking again", err)
        return _subject_of(self.image, self.face_detector)


def _subject_of(image: Image.Image, detector: FaceDetector | None) -> Subject | None:
    return detect_subject(image, _find_faces(image, detector))


def _find_faces(image: Image.Image, detector: FaceDetector | None) -> list[FaceBox]:
    """The faces `detector` finds on a copy of `image` at most FACE_SIDE long, in `image`'s pixels."""
    if detector is None:
        return []
    small = image.convert("RGB")
    scale = min(1.0, FACE_SIDE / max(small.size))
    if scale < 1.0:
        size = (max(1, round(small.width * scale)), max(1, round(small.height * scale)))
        small = small.resize(size, Image.Resampling.BOX)
    try:
        found = detector.detect(small)
    except Exception as err:  # a detector that fails (throttled, denied) leaves the crop to saliency
        log.warning("face detection (%s) failed: %s", detector.name, err)
        return []
    return [
        FaceBox(
            left=round(f.left / scale),
            top=round(f.top / scale),
            width=round(f.width / scale),
            height=round(f.height / scale),
            score=f.score,
        )
        for f in found
    ]


# ---------------------------------------------------------------------------------------------------------
# Small public helpers


def largest_size(targets: Iterable[Target]) -> tuple[int, int]:
    """The largest width and the largest height among `targets`: what `prepare` needs to serve them all
    (the cover scale of every output is at most the cover scale of this size)."""
    sizes = [(t.width, t.height) for t in targets]
    if not sizes:
        raise InvalidInput("No output formats were chosen.", details={"field": "platforms"})
    return max(w for w, _ in sizes), max(h for _, h in sizes)


def catalog_targets(platforms: Iterable[str] | None = None) -> list[Target]:
    """Every format of the named platforms (default: every platform of kind 'social'), in catalog order."""
    from imagestudio.catalog import get_catalog

    catalog = get_catalog()
    chosen = (
        [catalog.platform(name, status=422) for name in platforms]
        if platforms is not None
        else [p for p in catalog.platforms() if p.kind == "social"]
    )
    return [Target.from_catalog(platform, fmt) for platform in chosen for fmt in platform.formats]


def safe_zone_px(width: int, height: int, safe_zone: SafeFractions) -> tuple[int, int, int, int]:
    """The safe zone of a width x height output in pixels: (x, y, width, height)."""
    top, bottom, left, right = safe_zone
    x, y = round(width * left), round(height * top)
    return x, y, max(1, width - round(width * right) - x), max(1, height - round(height * bottom) - y)


# ---------------------------------------------------------------------------------------------------------
# prepare


def prepare(
    data: bytes,
    largest: tuple[int, int],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    allowed_formats: tuple[str, ...] = ACCEPTED_FORMATS,
    face_detector: FaceDetector | None = None,
    find_subject: bool = False,
) -> Prepared:
    """Verify `data` and decode it once at the smallest scale that still covers a `largest` output
    (use `largest_size(targets)`); raise InvalidInput (422) for anything `verify_image` would refuse.
    `find_subject` (smart crops will be planned): the subject is looked for while the picture decodes,
    see `_look_early`."""
    with _pillow_quiet():
        prepared = _prepare(
            bytes(data),
            largest,
            max_bytes=max_bytes,
            max_pixels=max_pixels,
            allowed=allowed_formats,
            find_subject=find_subject,
            face_detector=face_detector,
        )
    prepared.face_detector = face_detector
    return prepared


@functools.cache
def _subject_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="subject")


def _look_early(
    data: bytes, stored: tuple[int, int], detector: FaceDetector | None
) -> Future[Subject | None] | None:
    """The subject, being found alongside the decode; None where that would not pay (one CPU, or a
    picture small enough that the subject costs next to nothing after the decode).

    A JPEG's Huffman decoding takes one core whatever the DCT scale, and it is most of `prepare`; the
    subject (saliency on a 256 px thumbnail, the faces on a FACE_SIDE copy, a Rekognition round trip
    deployed) needs only a small copy. So a second thread decodes the file at the smallest DCT scale
    still at least FACE_SIDE long (its header is already checked against the pixel cap) and finds the
    subject there, while the main decode runs on the other core."""
    if _cpus() < 2 or max(stored) / 2 < FACE_SIDE:
        return None
    return _subject_pool().submit(_early_subject, data, stored, detector)


def _early_subject(data: bytes, stored: tuple[int, int], detector: FaceDetector | None) -> Subject | None:
    scale = next(s for s in (8, 4, 2, 1) if max(stored) / s >= FACE_SIDE)
    im = Image.open(io.BytesIO(data), formats=["JPEG"])  # no warnings filter here: not thread-safe
    im.draft(None, (-(-stored[0] // scale), -(-stored[1] // scale)))
    im.load()
    return _subject_of(_as_rgb(_clean_pixels(_described(im), [])), detector)


def _as_rgb(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when the picture has transparency."""
    if image.mode in ("L", "LA"):
        return image.convert("RGBA" if image.mode == "LA" else "RGB")
    if image.mode not in ("RGB", "RGBA"):
        return image.convert("RGB")
    return image


def _peek_jpeg(data: bytes) -> tuple[tuple[int, int], int] | None:
    """A JPEG's stored size and EXIF orientation from its header (nothing decoded); None if unreadable:
    the guarded decode then says what is wrong."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["JPEG"]) as im:
                size = im.size
                try:
                    orientation = int(im.getexif().get(ExifTags.Base.Orientation, 1))
                except Exception:  # malformed EXIF: orientation is then not applied either
                    orientation = 1
    except Exception:
        return None
    return size, orientation


def _cover_scale(src_size: tuple[int, int], out_size: tuple[int, int]) -> float:
    return max(out_size[0] / src_size[0], out_size[1] / src_size[1])


def _prepare(
    data: bytes,
    largest: tuple[int, int],
    *,
    max_bytes: int,
    max_pixels: int,
    allowed: tuple[str, ...],
    find_subject: bool = False,
    face_detector: FaceDetector | None = None,
) -> Prepared:
    want_w, want_h = _check_size(largest, "largest")
    allowed = tuple(f.upper() for f in allowed)
    fmt = check_bytes(data, max_bytes, allowed)

    draft_box: tuple[int, int] | None = None
    early: Future[Subject | None] | None = None
    stored: tuple[int, int] | None = None
    shown: tuple[int, int] | None = None
    if fmt == "JPEG":
        header = _peek_jpeg(data)
        if header is not None and header[0][0] >= 1 and header[0][1] >= 1:
            stored, orientation = header
            shown = (stored[1], stored[0]) if orientation in _TRANSPOSED else stored
            scale = min(1.0, _cover_scale(shown, (want_w, want_h)))
            need = (max(1, math.ceil(shown[0] * scale)), max(1, math.ceil(shown[1] * scale)))
            draft_box = (need[1], need[0]) if orientation in _TRANSPOSED else need
            if find_subject and stored[0] * stored[1] <= max_pixels:
                early = _look_early(data, stored, face_detector)

    decoded = _decode(data, fmt, max_pixels=max_pixels, draft_box=draft_box)
    factor = 1
    got = decoded.image.size
    if stored is not None and got != stored:  # DCT scaling happened: by which power of two
        factor = next((s for s in (8, 4, 2) if (-(-stored[0] // s), -(-stored[1] // s)) == got), 1)
    notes: list[str] = []
    if decoded.frames > 1:
        unit = "pages" if fmt == "TIFF" else "pictures" if fmt == "JPEG" else "frames"
        first = "page" if fmt == "TIFF" else "picture" if fmt == "JPEG" else "frame"
        notes.append(f"{decoded.animated_kind} with {decoded.frames} {unit}: kept the first {first} only")
    image = _as_rgb(_clean_pixels(decoded, notes))
    source = (image.width * factor, image.height * factor)
    if shown is not None and (-(-shown[0] // factor), -(-shown[1] // factor)) == image.size:
        source = shown  # the exact source size, as displayed
    if factor > 1:
        notes.append(f"decoded at 1/{factor} scale ({image.width}x{image.height}): enough for every output")

    # still twice (or more) what the largest output needs: reduce by a whole factor
    scale = min(1.0, _cover_scale(source, (want_w, want_h)))
    need = (max(1, math.ceil(source[0] * scale)), max(1, math.ceil(source[1] * scale)))
    extra = min(image.width // need[0], image.height // need[1])
    if extra >= 2:
        image = image.reduce(extra)
        factor *= extra
        notes.append(f"reduced to 1/{factor} scale ({image.width}x{image.height}): enough for every output")
    image.info = {}
    return Prepared(
        image=image,
        source_size=source,
        factor=factor,
        source_format=fmt,
        notes=notes,
        data=data,
        max_bytes=max_bytes,
        max_pixels=max_pixels,
        _early=early,
    )


# ---------------------------------------------------------------------------------------------------------
# Crop planning (the geometry is imaging/social_crops.py)


def plan_crops(
    prepared: Prepared,
    targets: Sequence[Target],
    *,
    mode: str = "smart",
    focal: tuple[float, float] | None = None,
) -> list[Box]:
    """The crop of each target (source pixels), as `export` makes them: in smart mode around the focal
    point when one is given, else around the detected subject."""
    subject = prepared.subject() if mode == "smart" and focal is None else None
    return [
        plan_crop(
            prepared.source_size,
            (t.width, t.height),
            subject.box if subject is not None else None,
            t.safe_zone,
            focal,
            mode,
            centroid=subject.centroid if subject is not None else None,
            core=subject.core if subject is not None else None,
        )
        for t in targets
    ]


# ---------------------------------------------------------------------------------------------------------
# Pixels


class _Pyramid:
    """The decoded image and its reduce(2) levels, made on demand (thread-safe)."""

    def __init__(self, prepared: Prepared) -> None:
        self.factor = prepared.factor
        self._levels = [prepared.image]
        self._lock = threading.Lock()

    def level(self, k: int) -> Image.Image:
        if k < len(self._levels):
            return self._levels[k]
        with self._lock:
            while len(self._levels) <= k:
                self._levels.append(self._levels[-1].reduce(2))
            return self._levels[k]

    def choose(self, crop: tuple[float, float], size: tuple[int, int]) -> int:
        """The smallest level whose crop still covers `size` (times LEVEL_GAP)."""
        base = self._levels[0]
        k = 0
        while k + 1 < MAX_LEVELS:
            f = self.factor * 2 ** (k + 1)
            if min(base.width, base.height) < 2 ** (k + 1):
                break
            if crop[0] / f < size[0] * LEVEL_GAP - _EPS or crop[1] / f < size[1] * LEVEL_GAP - _EPS:
                break
            k += 1
        return k

    def resample(self, box: Box, size: tuple[int, int], resample: Image.Resampling = RESAMPLE) -> Image.Image:
        """The source region `box` (source pixels) resampled to `size` with `resample`."""
        k = self.choose((box[2] - box[0], box[3] - box[1]), size)
        image = self.level(k)
        f = self.factor * 2**k
        left = clamp(box[0] / f, 0.0, image.width)
        top = clamp(box[1] / f, 0.0, image.height)
        right = clamp(box[2] / f, left, image.width)
        bottom = clamp(box[3] / f, top, image.height)
        scaled = (left, top, right, bottom)
        if all(abs(v - round(v)) < _EPS for v in scaled):
            ints = (round(left), round(top), round(right), round(bottom))
            if (ints[2] - ints[0], ints[3] - ints[1]) == size:
                return image.crop(ints)
        return image.resize(size, resample, box=scaled)


def _parse_fill(fill: Fill) -> tuple[int, int, int] | None:
    """The letterbox colour, or None for the blurred fill."""
    if isinstance(fill, tuple):
        if len(fill) == 3 and all(isinstance(v, int) and 0 <= v <= 255 for v in fill):
            return fill[0], fill[1], fill[2]
    elif fill.strip().lower() == "blur":
        return None
    else:
        try:
            rgb = ImageColor.getrgb(fill.strip())
        except ValueError:
            pass
        else:
            return rgb[0], rgb[1], rgb[2]
    raise InvalidInput(
        f"fill must be 'blur' or a colour like '#ffffff'; got {fill!r}.",
        details={"field": "fill", "value": str(fill)},
    )


def _blurred_fill(pyramid: _Pyramid, source: tuple[int, int], size: tuple[int, int]) -> Image.Image:
    width, height = size
    small = (max(1, math.ceil(width / FIT_BLUR_DIVISOR)), max(1, math.ceil(height / FIT_BLUR_DIVISOR)))
    background = flatten(pyramid.resample(cover_box(source, size), small))
    background = background.filter(ImageFilter.GaussianBlur(FIT_BLUR_RADIUS))
    background = background.resize(size, Image.Resampling.BILINEAR)
    return background.point([round(v * FIT_DARKEN) for v in range(256)] * 3)


def fit_onto(image: Image.Image, size: tuple[int, int], fill: Fill = "#ffffff") -> Image.Image:
    """The whole of `image` scaled to fit inside `size`, centred on `fill` (a colour, or 'blur': the
    picture itself, blurred and darkened, covering the canvas). Always RGB."""
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.mode else "RGB")
    pyramid = _Pyramid(Prepared.from_image(image))
    return _fit(pyramid, image.size, _check_size(size, "size"), _parse_fill(fill))


def _fit(
    pyramid: _Pyramid, source: tuple[int, int], size: tuple[int, int], colour: tuple[int, int, int] | None
) -> Image.Image:
    width, height = size
    scale = min(width / source[0], height / source[1])
    inner = (
        min(width, max(1, round(source[0] * scale))),
        min(height, max(1, round(source[1] * scale))),
    )
    content = pyramid.resample((0.0, 0.0, float(source[0]), float(source[1])), inner)
    canvas = Image.new("RGB", size, colour) if colour is not None else _blurred_fill(pyramid, source, size)
    at = ((width - inner[0]) // 2, (height - inner[1]) // 2)
    if content.mode == "RGBA":
        canvas.paste(content, at, content)
    else:
        canvas.paste(content, at)
    return canvas


def safe_zone_overlay(image: Image.Image, zone: tuple[int, int, int, int]) -> Image.Image:
    """A preview of the safe zone (x, y, width, height): outside darkened, a 2 px yellow border inside
    the zone's edge. RGB."""
    base = flatten(image)
    dark = base.point([round(v * OVERLAY_DARKEN) for v in range(256)] * 3)
    x, y, w, h = zone
    dark.paste(base.crop((x, y, x + w, y + h)), (x, y))
    ImageDraw.Draw(dark).rectangle(
        (x, y, x + w - 1, y + h - 1), outline=OVERLAY_COLOUR, width=min(OVERLAY_BORDER, w, h)
    )
    return dark


# ---------------------------------------------------------------------------------------------------------
# export


def _check_size(size: Sequence[int], what: str) -> tuple[int, int]:
    if (
        len(size) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in size)
        or not all(1 <= v <= MAX_OUTPUT_SIDE for v in size)
    ):
        raise InvalidInput(
            f"{what} must be a width and a height of 1 to {MAX_OUTPUT_SIDE} pixels; got {tuple(size)}.",
            details={"field": what},
        )
    return size[0], size[1]


def _check_safe_zone(zone: SafeFractions, what: str) -> SafeFractions:
    top, bottom, left, right = zone
    if not all(0 <= v < 0.5 for v in zone):
        raise InvalidInput(
            f"{what}: safe zone fractions must be in 0..0.5; got {zone}.", details={"field": "safe_zone"}
        )
    return top, bottom, left, right


def _needed_scale(targets: Sequence[Target], source: tuple[int, int], mode: str) -> float:
    scales = [(min if mode == "fit" else max)(t.width / source[0], t.height / source[1]) for t in targets]
    return min(1.0, max(scales))


def _with_resolution(prepared: Prepared, targets: Sequence[Target], mode: str) -> Prepared:
    """`prepared`, or the source decoded again at a larger scale if some output needs more pixels than
    it holds (a `largest` that was too small)."""
    needed = _needed_scale(targets, prepared.source_size, mode)
    if prepared.factor == 1 or needed <= prepared.scale + _EPS:
        return prepared
    sw, sh = prepared.source_size
    again = prepare(
        prepared.data,
        (min(MAX_OUTPUT_SIDE, math.ceil(sw * needed)), min(MAX_OUTPUT_SIDE, math.ceil(sh * needed))),
        max_bytes=prepared.max_bytes,
        max_pixels=prepared.max_pixels,
    )
    return replace(
        again, _subject=prepared._subject, _early=prepared._early, face_detector=prepared.face_detector
    )


@dataclass
class _Job:
    size: tuple[int, int]
    crop: Box | None  # None: fit
    indexes: list[int]


def export(
    prepared: Prepared,
    targets: Sequence[Target],
    *,
    mode: str = "smart",
    focal: tuple[float, float] | None = None,
    fill: Fill = "#ffffff",
    output_format: str = "jpeg",
    quality: int = DEFAULT_QUALITY,
    show_safe_zones: bool = False,
    threads: int | None = None,
) -> list[Rendered]:
    """Every target rendered from `prepared`, in the order given (see the module docstring)."""
    if mode not in MODES:
        raise InvalidInput(
            f"Unknown crop mode '{mode}'. Valid modes: {', '.join(MODES)}.",
            details={"field": "crop_mode", "value": mode, "valid_choices": list(MODES)},
        )
    fmt = normalize_format(output_format)
    if not 1 <= quality <= 100:
        raise InvalidInput(f"quality must be between 1 and 100; got {quality}.", details={"field": "quality"})
    if focal is not None and not all(0.0 <= v <= 1.0 for v in focal):
        raise InvalidInput(
            f"focal_point x and y must be between 0 and 1; got {tuple(focal)}.",
            details={"field": "focal_point"},
        )
    if not targets:
        raise InvalidInput("No output formats were chosen.", details={"field": "platforms"})
    for t in targets:
        _check_size((t.width, t.height), f"{t.platform} {t.format_name}")
        _check_safe_zone(t.safe_zone, f"{t.platform} {t.format_name}")
    colour = _parse_fill(fill) if mode == "fit" else (255, 255, 255)

    prepared = _with_resolution(prepared, targets, mode)
    source = prepared.source_size
    crops: list[Box | None] = (
        [None] * len(targets)
        if mode == "fit"
        else list(plan_crops(prepared, targets, mode=mode, focal=focal))
    )

    jobs: dict[tuple[object, ...], _Job] = {}
    for index, (t, crop) in enumerate(zip(targets, crops, strict=True)):
        size = (t.width, t.height)
        key = (size, None if crop is None else tuple(round(v, 6) for v in crop))
        jobs.setdefault(key, _Job(size, crop, [])).indexes.append(index)

    pyramid = _Pyramid(prepared)

    def run(job: _Job) -> dict[int, Rendered]:
        return _render_job(job, targets, pyramid, source, fmt, quality, colour, show_safe_zones)

    ordered = sorted(jobs.values(), key=lambda j: -_cost(j, source))
    workers = min(len(ordered), max(1, threads if threads is not None else _cpus()))
    results: dict[int, Rendered] = {}
    for done in _run_all(run, ordered, workers):
        results.update(done)
    return [results[i] for i in range(len(targets))]


def _cpus() -> int:
    """The CPUs this process may run on (its affinity where the OS says, else os.cpu_count())."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _cost(job: _Job, source: tuple[int, int]) -> float:
    """A rough resampling cost, to start the longest renditions first."""
    crop_w = (job.crop[2] - job.crop[0]) if job.crop is not None else source[0]
    return job.size[0] * job.size[1] * max(1.0, crop_w / job.size[0])


def _run_all(
    run: Callable[[_Job], dict[int, Rendered]], jobs: list[_Job], workers: int
) -> list[dict[int, Rendered]]:
    if workers <= 1:
        return [run(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="social") as pool:
        return list(pool.map(run, jobs))


def _render_job(
    job: _Job,
    targets: Sequence[Target],
    pyramid: _Pyramid,
    source: tuple[int, int],
    fmt: str,
    quality: int,
    colour: tuple[int, int, int] | None,
    show_safe_zones: bool,
) -> dict[int, Rendered]:
    width, height = job.size
    notes: list[str] = []
    if job.crop is None:
        image = _fit(pyramid, source, job.size, colour)
        crop_box = (0, 0, source[0], source[1])
        notes.append(
            "fitted whole onto "
            + (f"#{colour[0]:02x}{colour[1]:02x}{colour[2]:02x}" if colour else "a blurred fill")
        )
        used = min(width / source[0], height / source[1])
    else:
        image = pyramid.resample(job.crop, job.size)
        left, top, right, bottom = job.crop
        crop_box = (round(left), round(top), round(right), round(bottom))
        used = width / (right - left)
    if used > 1.0 + 1e-3:
        notes.append(f"upscaled {used:.2f}x: the source has fewer pixels than the format")

    encoded: list[tuple[int | None, tuple[bytes, str, list[str]]]] = []
    overlays: dict[SafeFractions, bytes] = {}
    out: dict[int, Rendered] = {}
    # the largest limit first: its encoding serves every smaller limit it also fits
    for index in sorted(job.indexes, key=lambda i: -(targets[i].max_bytes or math.inf)):
        t = targets[index]
        result = next(
            (r for _limit, r in encoded if not r[2] and (t.max_bytes is None or len(r[0]) <= t.max_bytes)),
            None,
        )
        if result is None:
            first = next((r[0] for _limit, r in encoded if not r[2]), None)
            result = encode_within_from(image, fmt, t.max_bytes, quality, first)
            encoded.append((t.max_bytes, result))
        zone = safe_zone_px(width, height, t.safe_zone)
        overlay = None
        if show_safe_zones:
            if t.safe_zone not in overlays:
                buffer = io.BytesIO()
                safe_zone_overlay(image, zone).save(buffer, "PNG", compress_level=OVERLAY_COMPRESS_LEVEL)
                overlays[t.safe_zone] = buffer.getvalue()
            overlay = overlays[t.safe_zone]
        data, mime, actions = result
        out[index] = Rendered(
            platform=t.platform,
            format_name=t.format_name,
            width=width,
            height=height,
            data=data,
            mime=mime,
            bytes=len(data),
            safe_zone_px=zone,
            crop_box=crop_box,
            actions=notes + actions,
            overlay=overlay,
        )
    return out


__all__ = [
    "DEFAULT_QUALITY",
    "MIME",
    "MODES",
    "OUTPUT_FORMATS",
    "QUALITY_FLOOR",
    "Prepared",
    "Rendered",
    "Subject",
    "Target",
    "catalog_targets",
    "cover_box",
    "detect_subject",
    "encode",
    "encode_within",
    "export",
    "fit_onto",
    "largest_size",
    "plan_crop",
    "plan_crops",
    "prepare",
    "safe_zone_overlay",
    "safe_zone_px",
]

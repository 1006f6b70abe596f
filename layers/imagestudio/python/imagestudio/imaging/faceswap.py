"""Face swap without a model: detect, align, match colours, blend. Used by the offline provider, and the
pre-charge check every face swap goes through.

`check_faces(base, face, target_index)` runs before any credit is reserved: it refuses (422) a face
image with no face and a base image with fewer faces than `target_index` needs. Faces are counted
largest first, as WaveSpeed's ``target_index`` counts them (0 = the largest face).

`swap_face(base, face, target_index)`:

1. the source face is the largest face of the face image, the target is face `target_index` of the base;
2. alignment: a similarity transform (scale, rotation, translation) taking the source's eye centres
   onto the target's when OpenCV's bundled eye cascade finds both eyes in both faces; from the two
   boxes (scale and translation) otherwise;
3. colours: the warped source face's per-channel mean and spread are matched to the target face's
   (Reinhard-style transfer), so skin tone and lighting follow the base photo;
4. blending: `cv2.seamlessClone` (Poisson blending) inside an elliptical face mask when OpenCV is
   importable; a feathered alpha blend with Pillow otherwise.

The result reports which alignment and blend were used, and the boxes, so a caller can show them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final, Literal

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageStat

from imagestudio.errors import InvalidInput
from imagestudio.imaging.faces import FaceBox, FaceDetector, default_detector

MAX_TARGET_INDEX: Final = 10
# The face region blended, as fractions of the detector's box (Haar boxes run from the brows to the chin).
MASK_WIDTH: Final = 0.78
MASK_HEIGHT: Final = 0.92
MASK_DROP: Final = 0.06
# Eye-based and box-based scales differ by up to ~40% between detectors' framings of real faces; past
# that, the "eyes" found are more likely brows or nostrils.
MAX_EYE_SCALE_DISAGREEMENT: Final = 0.5
MAX_TILT: Final = math.radians(30)  # the ellipse's centre sits this much of the box below the box's centre


@dataclass(frozen=True)
class FaceCheck:
    """What the pre-charge check found; `skipped` when no detector is available."""

    base_faces: list[FaceBox]  # largest first
    face_faces: list[FaceBox]
    target: FaceBox | None
    source: FaceBox | None
    detector: str | None
    skipped: bool = False
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SwapResult:
    image: Image.Image
    target: FaceBox
    source: FaceBox
    aligned_by: Literal["eyes", "boxes"]
    blend: Literal["seamless-clone", "feathered-alpha"]
    notes: list[str]


def largest_first(faces: list[FaceBox]) -> list[FaceBox]:
    """WaveSpeed's order for target_index: the largest face is 0."""
    return sorted(faces, key=lambda b: (-b.area, b.left, b.top))


def _box_dict(box: FaceBox) -> dict[str, int]:
    return {"left": box.left, "top": box.top, "width": box.width, "height": box.height}


def check_faces(
    base: Image.Image,
    face: Image.Image,
    *,
    target_index: int = 0,
    max_target_index: int = MAX_TARGET_INDEX,
    detector: FaceDetector | None = None,
) -> FaceCheck:
    """Refuse (422) before any charge a swap that cannot work; the faces found otherwise."""
    if not 0 <= target_index <= max_target_index:
        raise InvalidInput(
            f"target_index must be between 0 and {max_target_index} (0 = the largest face);"
            f" got {target_index}.",
            details={"field": "target_index", "value": target_index, "max": max_target_index},
        )
    chosen = detector if detector is not None else default_detector()
    if chosen is None:
        return FaceCheck(
            [], [], None, None, None, skipped=True, notes=["no face detector available: not checked"]
        )
    face_faces = largest_first(chosen.detect(face))
    if not face_faces:
        raise InvalidInput(
            "No face was found in the face image. Use a clear, front-facing photo of one face (at least"
            " about 80x80 pixels), not turned away or covered.",
            details={"field": "face_image", "faces_found": 0},
        )
    base_faces = largest_first(chosen.detect(base))
    if len(base_faces) <= target_index:
        found = len(base_faces)
        shown = "no face" if found == 0 else f"{found} face{'s' if found > 1 else ''}"
        raise InvalidInput(
            f"The base image shows {shown}; target_index {target_index} needs at least {target_index + 1}"
            f" (faces are counted largest first from 0). "
            + (
                "Use a photo where the face to replace is clearly visible."
                if found == 0
                else f"Use a target_index from 0 to {found - 1}."
            ),
            details={
                "field": "target_index" if found else "image",
                "faces_found": found,
                "faces": [_box_dict(b) for b in base_faces],
            },
        )
    notes = []
    if len(face_faces) > 1:
        notes.append(f"the face image shows {len(face_faces)} faces: the largest is used")
    return FaceCheck(
        base_faces, face_faces, base_faces[target_index], face_faces[0], chosen.name, notes=notes
    )


def face_crop(image: Image.Image, box: FaceBox, margin: float = 0.3) -> Image.Image:
    """The face in `box` with `margin` of its size around it (clipped to the image): what Akool's model
    takes as the face to replace."""
    dx, dy = round(box.width * margin), round(box.height * margin)
    left, top = max(0, box.left - dx), max(0, box.top - dy)
    right, bottom = min(image.width, box.right + dx), min(image.height, box.bottom + dy)
    return image.crop((left, top, right, bottom))


# ---------------------------------------------------------------------------------------------------------
# Alignment


@lru_cache(maxsize=1)
def _cv2() -> Any | None:
    try:
        import cv2
    except ImportError:
        return None
    return cv2


@lru_cache(maxsize=1)
def _eye_cascade() -> Any | None:
    cv2 = _cv2()
    if cv2 is None:
        return None
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_eye.xml")
    return None if cascade.empty() else cascade


def find_eyes(image: Image.Image, box: FaceBox) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """The centres of the left and right eye (image coordinates) inside `box`, or None."""
    cascade = _eye_cascade()
    if cascade is None:
        return None
    import numpy as np

    top_half = image.convert("L").crop((box.left, box.top, box.right, box.top + int(box.height * 0.6)))
    if top_half.width < 24 or top_half.height < 12:
        return None
    pixels = _cv2().equalizeHist(np.asarray(top_half))  # type: ignore[union-attr]
    side = max(8, box.width // 8)
    found = cascade.detectMultiScale(pixels, scaleFactor=1.1, minNeighbors=4, minSize=(side, side))
    eyes = [(x + w / 2 + box.left, y + h / 2 + box.top, w) for (x, y, w, h) in found]
    left = [e for e in eyes if e[0] < box.left + box.width / 2]
    right = [e for e in eyes if e[0] >= box.left + box.width / 2]
    if not left or not right:
        return None
    a = max(left, key=lambda e: e[2])
    b = max(right, key=lambda e: e[2])
    distance = math.dist(a[:2], b[:2])
    if not 0.25 * box.width <= distance <= 0.7 * box.width or abs(a[1] - b[1]) > 0.25 * box.height:
        return None
    return (a[0], a[1]), (b[0], b[1])


def _similarity(
    src: tuple[tuple[float, float], tuple[float, float]], dst: tuple[tuple[float, float], tuple[float, float]]
) -> tuple[float, float, float, float]:
    """(scale, angle, tx, ty) mapping the segment src onto dst: p' = s R p + t."""
    (sx1, sy1), (sx2, sy2) = src
    (dx1, dy1), (dx2, dy2) = dst
    s_len = math.hypot(sx2 - sx1, sy2 - sy1) or 1.0
    d_len = math.hypot(dx2 - dx1, dy2 - dy1)
    scale = d_len / s_len
    angle = math.atan2(dy2 - dy1, dx2 - dx1) - math.atan2(sy2 - sy1, sx2 - sx1)
    c, s = scale * math.cos(angle), scale * math.sin(angle)
    tx = dx1 - (c * sx1 - s * sy1)
    ty = dy1 - (s * sx1 + c * sy1)
    return scale, angle, tx, ty


def _warp(
    face: Image.Image, size: tuple[int, int], scale: float, angle: float, tx: float, ty: float
) -> Image.Image:
    """The face image moved by p' = s R p + t onto a canvas of `size` (Pillow wants the inverse map)."""
    c, s = scale * math.cos(angle), scale * math.sin(angle)
    det = c * c + s * s
    a, b = c / det, s / det  # inverse of [[c, -s], [s, c]] is [[c, s], [-s, c]] / det
    d, e = -s / det, c / det
    inverse = (a, b, -(a * tx + b * ty), d, e, -(d * tx + e * ty))
    return face.convert("RGB").transform(size, Image.Transform.AFFINE, inverse, Image.Resampling.BICUBIC)


def _placed_box(box: FaceBox, scale: float, angle: float, tx: float, ty: float) -> FaceBox:
    """Where `box` lands under p' = s R p + t (its centre moved, its size scaled; tilt ignored)."""
    cx, cy = box.center
    c, s = scale * math.cos(angle), scale * math.sin(angle)
    x, y = c * cx - s * cy + tx, s * cx + c * cy + ty
    w, h = box.width * scale, box.height * scale
    return FaceBox(round(x - w / 2), round(y - h / 2), round(w), round(h), box.score)


def _mask(size: tuple[int, int], box: FaceBox) -> Image.Image:
    mask = Image.new("L", size, 0)
    cx, cy = box.center
    cy += box.height * MASK_DROP
    rx, ry = box.width * MASK_WIDTH / 2, box.height * MASK_HEIGHT / 2
    ImageDraw.Draw(mask).ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=255)
    return mask


def _match_colours(src: Image.Image, dst: Image.Image, mask: Image.Image) -> Image.Image:
    """`src` with each channel's mean and spread under `mask` moved to `dst`'s."""
    s_stat, d_stat = ImageStat.Stat(src, mask), ImageStat.Stat(dst, mask)
    bands = []
    for i, band in enumerate(src.split()):
        gain = d_stat.stddev[i] / s_stat.stddev[i] if s_stat.stddev[i] > 1 else 1.0
        gain = max(0.5, min(2.0, gain))
        offset = d_stat.mean[i] - s_stat.mean[i] * gain
        bands.append(band.point(lambda v, g=gain, o=offset: max(0, min(255, round(v * g + o)))))
    return Image.merge("RGB", bands)


def swap_face(
    base: Image.Image,
    face: Image.Image,
    *,
    target_index: int = 0,
    check: FaceCheck | None = None,
    detector: FaceDetector | None = None,
    blend: Literal["auto", "seamless-clone", "feathered-alpha"] = "auto",
) -> SwapResult:
    """Put the largest face of `face` in place of face `target_index` of `base`."""
    check = check or check_faces(base, face, target_index=target_index, detector=detector)
    if check.target is None or check.source is None:
        raise InvalidInput(
            "Faces cannot be found here (no face detector is installed), so the offline face swap"
            " cannot run.",
            details={"field": "image"},
        )
    target, source = check.target, check.source
    base_rgb = base.convert("RGB")
    notes = list(check.notes)
    scale = target.width / source.width
    tx = target.center[0] - source.center[0] * scale
    ty = target.center[1] - source.center[1] * scale
    params = (scale, 0.0, tx, ty)
    aligned_by: Literal["eyes", "boxes"] = "boxes"
    src_eyes, dst_eyes = find_eyes(face, source), find_eyes(base_rgb, target)
    if src_eyes and dst_eyes:
        by_eyes = _similarity(src_eyes, dst_eyes)
        # eyes found in a blurred or turned face can be brows or nostrils: trust them only when they
        # agree with the boxes on the size and the tilt is a plausible head tilt
        ratio = by_eyes[0] / scale
        if (
            1 / (1 + MAX_EYE_SCALE_DISAGREEMENT) <= ratio <= 1 + MAX_EYE_SCALE_DISAGREEMENT
            and abs(by_eyes[1]) <= MAX_TILT
        ):
            params, aligned_by = by_eyes, "eyes"
        else:
            notes.append("the eyes found disagreed with the face boxes: aligned by the boxes")
    warped = _warp(face, base_rgb.size, *params)
    valid = _warp(Image.new("L", face.size, 255), base_rgb.size, *params).convert("L")
    # the face region: the source's face as placed, kept within (a little more than) the target's face
    placed = _placed_box(source, *params)
    around_target = FaceBox(
        round(target.left - target.width * 0.1),
        round(target.top - target.height * 0.1),
        round(target.width * 1.2),
        round(target.height * 1.2),
        target.score,
    )
    region = ImageChops.multiply(_mask(base_rgb.size, placed), _mask(base_rgb.size, around_target))
    mask = Image.composite(region, Image.new("L", base_rgb.size, 0), valid)
    mask = mask.filter(ImageFilter.MinFilter(5))  # keep off the warped image's own edge
    warped = _match_colours(warped, base_rgb, mask)
    cv2 = _cv2() if blend in ("auto", "seamless-clone") else None
    if blend == "seamless-clone" and cv2 is None:
        raise RuntimeError("seamless-clone asked for but OpenCV is not installed")
    if cv2 is not None:
        import numpy as np

        left, top, right, bottom = mask.getbbox() or (0, 0, *mask.size)
        centre = ((left + right) // 2, (top + bottom) // 2)
        out = cv2.seamlessClone(
            np.asarray(warped)[:, :, ::-1].copy(),
            np.asarray(base_rgb)[:, :, ::-1].copy(),
            np.asarray(mask),
            centre,
            cv2.NORMAL_CLONE,
        )
        result = Image.fromarray(out[:, :, ::-1].copy())
        used: Literal["seamless-clone", "feathered-alpha"] = "seamless-clone"
    else:
        radius = max(2.0, target.width * 0.08)
        soft = mask.filter(ImageFilter.GaussianBlur(radius))
        result = Image.composite(warped, base_rgb, soft)
        used = "feathered-alpha"
    if base.mode in ("RGBA", "LA"):
        result.putalpha(base.getchannel("A"))
    notes.append(
        f"face {target_index} ({target.width}x{target.height} at {target.left},{target.top}) replaced,"
        f" aligned by {aligned_by}, blended by {used.replace('-', ' ')}"
    )
    return SwapResult(result, target, source, aligned_by, used, notes)

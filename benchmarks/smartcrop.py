"""`make bench-smartcrop`: does the smart crop keep the subject of real photographs, in every format?

The photographs are the ones scikit-image ships inside its package (`skimage.data`, a dev-only
dependency): a portrait (astronaut), a man behind a camera (camera), a cat (chelsea), a coffee cup on
a table (coffee), a rocket on its pad (rocket) and a motorcycle in a garage (motorcycle); plus two
off-centre recompositions of real pixels (the astronaut and the cameraman cut so the face sits to one
side) and the synthetic red disc of issue 16. Each has a hand-drawn ground truth, in the photo's own
pixels: the subject, and its core (the face, the cup, the rocket's upper half...).

For each of the 20 social formats of the catalog the crop planned by the product ("smart", which is
what `export` runs: `Prepared.subject()` then `plan_crop`) and a plain centre crop are scored:

- kept: the crop holds the whole subject when a crop of that shape can; else the whole core when it
  can; else (a 6:1 banner on a tall core) the crop lies inside the core's span on the short axis,
  so it shows the core and nothing beside it;
- safe: the same, with the crop's platform safe zone in place of the crop (the part no UI covers).

Prints one row per photo and the totals; the last line is `kept_ours=N/M kept_centre=N/M`. With
`--save DIR` it also writes each photo with its crops drawn (PNG) for a look.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "imagestudio" / "python"), str(ROOT)]

from PIL import Image, ImageDraw  # noqa: E402

from imagestudio.imaging.faces import default_detector  # noqa: E402
from imagestudio.imaging.saliency import Subject  # noqa: E402
from imagestudio.imaging.social import (  # noqa: E402
    Prepared,
    Target,
    catalog_targets,
    cover_box,
    plan_crops,
)

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Photo:
    name: str
    load: Callable[[], Image.Image]
    subject: Box  # in the photo's pixels
    core: Box
    what: str


def _skimage(name: str, window: Box | None = None) -> Callable[[], Image.Image]:
    def load() -> Image.Image:
        from skimage import data

        pixels = data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(data, name)()
        image = Image.fromarray(pixels).convert("RGB")
        return image.crop(tuple(round(v) for v in window)) if window else image

    return load


def red_disc() -> Image.Image:
    """Issue 16's case: 3000x2000, a plain gradient with one hard vertical edge, and a red disc with a
    white ring at 80% across and 30% down (rows 400-800)."""
    width, height = 3000, 2000
    image = Image.linear_gradient("L").rotate(90).resize((width, height)).convert("RGB")
    image = Image.merge(
        "RGB", [b.point(lambda v, k=k: 90 + v * k // 4) for k, b in enumerate(image.split(), 1)]
    )
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 900, height), fill=(60, 70, 80))  # the hard edge at x = 900
    cx, cy = 2400, 600
    draw.ellipse((cx - 200, cy - 200, cx + 200, cy + 200), fill=(255, 255, 255))
    draw.ellipse((cx - 160, cy - 160, cx + 160, cy + 160), fill=(210, 30, 30))
    return image


def _shift(box: Box, window: Box) -> Box:
    return box[0] - window[0], box[1] - window[1], box[2] - window[0], box[3] - window[1]


ASTRONAUT_LEFT = (110.0, 0.0, 512.0, 300.0)
CAMERA_LEFT = (140.0, 30.0, 512.0, 290.0)

PHOTOS = [
    Photo("astronaut", _skimage("astronaut"), (20, 15, 365, 512), (165, 40, 290, 168), "portrait: face"),
    Photo(
        "astronaut, off-centre",
        _skimage("astronaut", ASTRONAUT_LEFT),
        _shift((110, 15, 365, 300), ASTRONAUT_LEFT),
        _shift((165, 40, 290, 168), ASTRONAUT_LEFT),
        "face at the left",
    ),
    Photo("camera", _skimage("camera"), (0, 60, 335, 512), (155, 65, 270, 210), "man behind a camera: head"),
    Photo(
        "camera, off-centre",
        _skimage("camera", CAMERA_LEFT),
        _shift((140, 60, 335, 290), CAMERA_LEFT),
        _shift((155, 65, 270, 210), CAMERA_LEFT),
        "head at the left",
    ),
    Photo("chelsea", _skimage("chelsea"), (30, 0, 400, 300), (130, 80, 345, 275), "cat: eyes and nose"),
    Photo("coffee", _skimage("coffee"), (75, 15, 480, 390), (170, 15, 410, 310), "product: cup on a saucer"),
    Photo("rocket", _skimage("rocket"), (295, 125, 350, 410), (300, 125, 345, 230), "rocket: its upper half"),
    Photo(
        "motorcycle",
        _skimage("motorcycle"),
        (90, 80, 690, 440),
        (320, 140, 560, 380),
        "motorcycle: tank, engine",
    ),
    Photo("red disc (issue 16)", red_disc, (2200, 400, 2600, 800), (2240, 440, 2560, 760), "synthetic"),
]


def _inside(inner: Box, outer: Box) -> bool:
    eps = 0.5
    return (
        inner[0] >= outer[0] - eps
        and inner[1] >= outer[1] - eps
        and inner[2] <= outer[2] + eps
        and inner[3] <= outer[3] + eps
    )


def _fits(box: Box, frame: Box) -> bool:
    return box[2] - box[0] <= frame[2] - frame[0] + 0.5 and box[3] - box[1] <= frame[3] - frame[1] + 0.5


def kept(frame: Box, subject: Box, core: Box) -> bool:
    """The subject if a frame of this shape can hold it, else the core if it can, else the frame within
    the core's span on each axis the core overflows (and holding it on the others)."""
    if _fits(subject, frame):
        return _inside(subject, frame)
    if _fits(core, frame):
        return _inside(core, frame)
    for axis in (0, 1):
        a, b = core[axis], core[axis + 2]
        f0, f1 = frame[axis], frame[axis + 2]
        if b - a > f1 - f0 + 0.5:
            if not (f0 >= a - 0.5 and f1 <= b + 0.5):
                return False
        elif not (f0 <= a + 0.5 and f1 >= b - 0.5):
            return False
    return True


def safe_frame(crop: Box, target: Target) -> Box:
    top, bottom, left, right = target.safe_zone
    w, h = crop[2] - crop[0], crop[3] - crop[1]
    return crop[0] + w * left, crop[1] + h * top, crop[2] - w * right, crop[3] - h * bottom


def smart_crops(image: Image.Image, targets: list[Target]) -> tuple[list[Box], Subject | None]:
    """The crops `export` plans in smart mode for `image` (decoded as is: factor 1)."""
    prepared = Prepared(
        image=image,
        source_size=image.size,
        factor=1,
        source_format="PNG",
        notes=[],
        data=b"",
        face_detector=default_detector(),  # offline: OpenCV's cascade (deployed: Rekognition)
    )
    return plan_crops(prepared, targets, mode="smart"), prepared.subject()


def draw(image: Image.Image, crops: list[Box], photo: Photo, path: Path) -> None:
    canvas = image.convert("RGB")
    pen = ImageDraw.Draw(canvas)
    pen.rectangle(photo.subject, outline=(0, 255, 0), width=2)
    pen.rectangle(photo.core, outline=(255, 0, 255), width=2)
    for crop in crops:
        pen.rectangle(crop, outline=(255, 255, 0), width=1)
    canvas.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save", type=Path, help="write each photo with its crops drawn into this folder")
    args = parser.parse_args()
    targets = catalog_targets()
    totals = {"ours": 0, "ours_safe": 0, "centre": 0, "centre_safe": 0}
    print(
        f"{len(targets)} formats per photo; kept = the subject (or its core) inside the crop;"
        " safe = inside the crop's safe zone"
    )
    print(
        f"{'photo':<24}{'size':>10}  {'ours kept':>9} {'ours safe':>9}  {'centre kept':>11}"
        f" {'centre safe':>11}  what"
    )
    for photo in PHOTOS:
        image = photo.load()
        ours, subject = smart_crops(image, targets)
        centre = [cover_box(image.size, (t.width, t.height)) for t in targets]
        row = {
            "ours": sum(kept(c, photo.subject, photo.core) for c in ours),
            "ours_safe": sum(
                kept(safe_frame(c, t), photo.subject, photo.core) for c, t in zip(ours, targets, strict=True)
            ),
            "centre": sum(kept(c, photo.subject, photo.core) for c in centre),
            "centre_safe": sum(
                kept(safe_frame(c, t), photo.subject, photo.core)
                for c, t in zip(centre, targets, strict=True)
            ),
        }
        for key, value in row.items():
            totals[key] += value
        m = len(targets)
        size = f"{image.width}x{image.height}"
        print(
            f"{photo.name:<24}{size:>10}  {row['ours']:>6}/{m} {row['ours_safe']:>6}/{m}"
            f"  {row['centre']:>8}/{m} {row['centre_safe']:>8}/{m}  {photo.what}"
            f" [{f'{subject.faces} face(s)' if subject and subject.faces else 'saliency'}]"
        )
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            slug = photo.name.replace(", ", "-").replace(" ", "-").replace("(", "").replace(")", "")
            draw(image, ours, photo, args.save / f"{slug}.png")
    total = len(targets) * len(PHOTOS)
    print(
        f"kept_ours={totals['ours']}/{total} safe_ours={totals['ours_safe']}/{total}"
        f" kept_centre={totals['centre']}/{total} safe_centre={totals['centre_safe']}/{total}"
    )


if __name__ == "__main__":
    main()

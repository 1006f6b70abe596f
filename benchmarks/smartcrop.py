"""`make bench-smartcrop`: does the smart crop keep the subject of real photographs, in every format?

The photographs are the ones scikit-image ships inside its package (`skimage.data`, a dev-only
dependency): a portrait (astronaut), a man behind a camera (camera), a cat (chelsea), a coffee cup on
a table (coffee), a rocket on its pad (rocket), a motorcycle in a garage (motorcycle), a blurred wall
clock (clock_motion.png) and a horse's silhouette (horse.png, read as shipped); plus three
off-centre recompositions of real pixels (the astronaut and the cameraman cut so the face sits to one
side, the coffee cup to the other) and the synthetic red disc of issue 16. Each has a hand-drawn
ground truth, in the photo's own pixels: the subject, and its core (the face, the cup, the rocket's
upper half...).

For each of the 20 social formats of the catalog the crop planned by the product ("smart", which is
what `export` runs: `Prepared.subject()` then `plan_crop`), a plain centre crop and, for reference,
libvips' own smart crop (`smartcrop` with `interesting=attention`: where edges, skin tones and
saturated colour are densest, through pyvips, a dev-only dependency) of the same size are scored:

- kept: the crop holds the whole subject when a crop of that shape can; else the whole core when it
  can; else (a 6:1 banner on a tall core) the crop lies inside the core's span on the short axis,
  so it shows the core and nothing beside it;
- safe: the same, with the crop's platform safe zone in place of the crop (the part no UI covers).

Each is N of M: M counts the formats where some placement of that format's crop (its size is fixed:
the largest of its aspect ratio the photo allows) can do it, by the same rules in turn (the subject,
else the core, else lying on the core); a face at the picture's edge cannot be inside a safe zone
that keeps off that edge, and such a format is not counted. N counts the formats whose crop does
the best its size can.

Prints one row per photo and the totals; the last line is
`kept_ours=N/M safe_ours=N/M kept_centre=N/M safe_centre=N/M kept_libvips=N/M safe_libvips=N/M`. With
`--save DIR` it also writes each photo with its crops drawn (PNG) for a look. With `--augment` it
also scores three variants of each photo, so that a change to the detection is not tuned to twelve
pictures: the photo mirrored left-right, and two recompositions (windows of 80% of its width and
height, one at its top-left corner, one at its bottom-right), the hand-drawn boxes moved and clipped
with it; it prints one row per photo over its variants and, before the last line,
`augmented: kept N/M safe N/M` over the 48 pictures (the 12 photos and their 36 variants).
"""

from __future__ import annotations

import argparse
import io
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
    plan_crop,
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
        if window is None:
            return image
        left, top, right, bottom = (round(v) for v in window)
        return image.crop((left, top, right, bottom))

    return load


def _bundled(filename: str) -> Callable[[], Image.Image]:
    """A file scikit-image ships (skimage/data), as it is: `skimage.data.horse()` would binarise it."""

    def load() -> Image.Image:
        import skimage.data

        with Image.open(Path(skimage.data.__file__).parent / filename) as image:
            return image.convert("RGBA" if image.mode in ("RGBA", "LA") else "RGB")

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
COFFEE_RIGHT = (0.0, 0.0, 450.0, 330.0)

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
    Photo(
        "coffee, off-centre",
        _skimage("coffee", COFFEE_RIGHT),
        _shift((75, 15, 450, 330), COFFEE_RIGHT),
        _shift((170, 15, 410, 310), COFFEE_RIGHT),
        "cup at the right, cut by the frame",
    ),
    Photo(
        "clock",
        _bundled("clock_motion.png"),
        (140, 90, 285, 215),
        (140, 90, 285, 215),
        "a wall clock, blurred",
    ),
    Photo("horse", _bundled("horse.png"), (18, 9, 388, 312), (280, 9, 388, 140), "silhouette: head and neck"),
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


def _holds(frame: Box, box: Box) -> bool:
    """The frame holds the box on each axis the box fits, and lies within its span on the others (a
    6:1 banner on a tall core: it shows the core and nothing beside it)."""
    for axis in (0, 1):
        a, b = box[axis], box[axis + 2]
        f0, f1 = frame[axis], frame[axis + 2]
        if b - a > f1 - f0 + 0.5:
            if not (f0 >= a - 0.5 and f1 <= b + 0.5):
                return False
        elif not (f0 <= a + 0.5 and f1 >= b - 0.5):
            return False
    return True


def kept(frame: Box, subject: Box, core: Box) -> bool:
    """The subject if a frame of this shape can hold it, else the core if it can, else the frame within
    the core's span on each axis the core overflows (and holding it on the others)."""
    if _fits(subject, frame):
        return _inside(subject, frame)
    if _fits(core, frame):
        return _inside(core, frame)
    return _holds(frame, core)


Margins = tuple[float, float, float, float]  # left, top, right, bottom: the frame's inset in the crop


def _placeable(size: tuple[int, int], crop: Box, inset: Margins, box: Box) -> bool:
    """Some placement of a crop of this size inside the picture puts its frame (the crop less `inset`)
    on `box` as `_holds` asks."""
    for axis in (0, 1):
        length, extent = size[axis], crop[axis + 2] - crop[axis]
        m0, m1 = inset[axis], inset[axis + 2]
        a, b = box[axis], box[axis + 2]
        if (
            b - a <= extent - m0 - m1 + 0.5
        ):  # the frame holds [a, b]: start + m0 <= a, start + extent - m1 >= b
            low, high = b - extent + m1 - 0.5, a - m0 + 0.5
        else:  # the frame lies within [a, b]
            low, high = a - m0 - 0.5, b - extent + m1 + 0.5
        if max(low, 0.0) > min(high, length - extent) + 1e-6:
            return False
    return True


def goal(size: tuple[int, int], crop: Box, inset: Margins, subject: Box, core: Box) -> Box | None:
    """What a crop of this size can do best, by the rules of `kept` applied to its frame: hold the
    subject, else the core, else lie on the core; None when no placement can do any of them."""
    frame = (crop[0] + inset[0], crop[1] + inset[1], crop[2] - inset[2], crop[3] - inset[3])
    for box in (subject, core):
        if _fits(box, frame) and _placeable(size, crop, inset, box):
            return box
    return core if _placeable(size, crop, inset, core) else None


def scored(size: tuple[int, int], crop: Box, inset: Margins, subject: Box, core: Box) -> bool | None:
    """Whether the crop's frame does the best its size can (`goal`); None when it can do nothing."""
    best = goal(size, crop, inset, subject, core)
    if best is None:
        return None
    frame = (crop[0] + inset[0], crop[1] + inset[1], crop[2] - inset[2], crop[3] - inset[3])
    return _holds(frame, best)


def safe_inset(crop: Box, target: Target) -> Margins:
    top, bottom, left, right = target.safe_zone
    w, h = crop[2] - crop[0], crop[3] - crop[1]
    return w * left, h * top, w * right, h * bottom


def smart_crops(image: Image.Image, targets: list[Target]) -> tuple[list[Box], Subject | None]:
    """The crops `export` plans in smart mode for `image` (decoded as is: factor 1)."""
    prepared = Prepared.from_image(
        image, default_detector()
    )  # offline: OpenCV's cascade (deployed: Rekognition)
    return plan_crops(prepared, targets, mode="smart"), prepared.subject()


def libvips_crops(image: Image.Image, targets: list[Target]) -> list[Box]:
    """The crops libvips' attention smart crop picks, each of the size `plan_crop` gives the format."""
    import pyvips

    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "PNG")
    picture = pyvips.Image.new_from_buffer(buffer.getvalue(), "")
    crops: list[Box] = []
    for target in targets:
        left, top, right, bottom = cover_box(image.size, (target.width, target.height))
        width, height = round(right - left), round(bottom - top)
        chosen = picture.smartcrop(width, height, interesting="attention")
        x, y = -chosen.xoffset, -chosen.yoffset  # the extracted area's origin, as libvips records it
        crops.append((float(x), float(y), float(x + width), float(y + height)))
    return crops


def found_by(subject: Subject | None) -> str:
    if subject is None:
        return "no subject: centre"
    return f"{subject.faces} face(s)" if subject.faces else "saliency"


def draw(image: Image.Image, crops: list[Box], photo: Photo, subject: Subject | None, path: Path) -> None:
    """The ground truth (green: subject, magenta: core), what was detected (cyan: subject, red: core)
    and the crops (yellow)."""
    canvas = image.convert("RGB")
    pen = ImageDraw.Draw(canvas)
    if subject is not None:
        w, h = image.size
        pen.rectangle(subject.pixels(w, h), outline=(0, 255, 255), width=1)
        if subject.core is not None:
            x0, y0, x1, y1 = subject.core
            pen.rectangle((x0 * w, y0 * h, x1 * w, y1 * h), outline=(255, 0, 0), width=1)
    pen.rectangle(photo.subject, outline=(0, 255, 0), width=2)
    pen.rectangle(photo.core, outline=(255, 0, 255), width=2)
    for crop in crops:
        pen.rectangle(crop, outline=(255, 255, 0), width=1)
    canvas.save(path)


@dataclass
class Score:
    """N of M: M counts the formats whose crop size can do what is asked (`goal`), N those that do."""

    n: int = 0
    m: int = 0

    def add(self, results: list[bool | None]) -> None:
        self.n += sum(r is True for r in results)
        self.m += sum(r is not None for r in results)

    def __iadd__(self, other: Score) -> Score:
        self.n += other.n
        self.m += other.m
        return self

    def __str__(self) -> str:
        return f"{self.n}/{self.m}"


def _clip(box: Box, size: tuple[int, int]) -> Box:
    return max(0.0, box[0]), max(0.0, box[1]), min(float(size[0]), box[2]), min(float(size[1]), box[3])


def variants(image: Image.Image, photo: Photo) -> list[tuple[Image.Image, Photo]]:
    """The photo mirrored left-right, and cut to 80% of its width and height at its top-left and at
    its bottom-right corner, each with its hand-drawn boxes moved (and clipped) with the pixels."""
    w, h = image.size

    def mirrored(box: Box) -> Box:
        return w - box[2], box[1], w - box[0], box[3]

    out = [
        (
            image.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
            Photo(
                f"{photo.name} [mirror]",
                photo.load,
                mirrored(photo.subject),
                mirrored(photo.core),
                photo.what,
            ),
        )
    ]
    cw, ch = round(0.8 * w), round(0.8 * h)
    for tag, (left, top) in (("top-left", (0, 0)), ("bottom-right", (w - cw, h - ch))):
        window: Box = (left, top, left + cw, top + ch)
        cut = image.crop((left, top, left + cw, top + ch))
        subject = _clip(_shift(photo.subject, window), cut.size)
        core = _clip(_shift(photo.core, window), cut.size)
        if core[2] - core[0] < 1 or core[3] - core[1] < 1:
            continue  # the window leaves the core out: no ground truth
        out.append((cut, Photo(f"{photo.name} [{tag}]", photo.load, subject, core, photo.what)))
    return out


def oracle_crops(image: Image.Image, photo: Photo, targets: list[Target]) -> list[Box]:
    """The crops `plan_crop` makes when told the hand-drawn subject and core: what a perfect detector
    would give, so what is left to gain lies in the detection, not the placement."""
    w, h = image.size
    subject = (photo.subject[0] / w, photo.subject[1] / h, photo.subject[2] / w, photo.subject[3] / h)
    core = (photo.core[0] / w, photo.core[1] / h, photo.core[2] / w, photo.core[3] / h)
    return [plan_crop(image.size, (t.width, t.height), subject, t.safe_zone, core=core) for t in targets]


def score_photo(
    image: Image.Image, photo: Photo, crops: list[Box], targets: list[Target]
) -> tuple[Score, Score]:
    """(kept, safe) of one photo's crops, one per target."""
    kept_score, safe_score = Score(), Score()
    none: Margins = (0.0, 0.0, 0.0, 0.0)
    kept_score.add([scored(image.size, c, none, photo.subject, photo.core) for c in crops])
    safe_score.add(
        [
            scored(image.size, c, safe_inset(c, t), photo.subject, photo.core)
            for c, t in zip(crops, targets, strict=True)
        ]
    )
    return kept_score, safe_score


def _slug(name: str) -> str:
    for old, new in ((", ", "-"), (" ", "-"), ("(", ""), (")", ""), ("[", ""), ("]", "")):
        name = name.replace(old, new)
    return name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save", type=Path, help="write each photo with its crops drawn into this folder")
    parser.add_argument(
        "--augment", action="store_true", help="also score each photo mirrored and recomposed (48 pictures)"
    )
    args = parser.parse_args()
    targets = catalog_targets()
    totals = {
        key: Score()
        for key in (
            "ours",
            "ours_safe",
            "centre",
            "centre_safe",
            "libvips",
            "libvips_safe",
            "oracle",
            "oracle_safe",
        )
    }
    print(
        f"{len(targets)} formats per photo; kept = the subject (or its core) inside the crop;"
        " safe = inside the crop's safe zone;"
        " N/M: of the M formats where some placement of that crop can do it"
    )
    print(
        f"{'photo':<24}{'size':>10}  {'ours kept':>9} {'ours safe':>9}  {'centre kept':>11}"
        f" {'centre safe':>11}  {'libvips kept':>12} {'libvips safe':>12}  what"
    )
    augmented = [Score(), Score()]
    augmented_rows: list[str] = []
    for photo in PHOTOS:
        image = photo.load()
        ours, subject = smart_crops(image, targets)
        centre = [cover_box(image.size, (t.width, t.height)) for t in targets]
        row = dict(zip(("ours", "ours_safe"), score_photo(image, photo, ours, targets), strict=True))
        row |= dict(zip(("centre", "centre_safe"), score_photo(image, photo, centre, targets), strict=True))
        attention = libvips_crops(image, targets)
        row |= dict(
            zip(("libvips", "libvips_safe"), score_photo(image, photo, attention, targets), strict=True)
        )
        oracle = oracle_crops(image, photo, targets)
        row |= dict(zip(("oracle", "oracle_safe"), score_photo(image, photo, oracle, targets), strict=True))
        for key, value in row.items():
            totals[key] += value
        if args.augment:  # the photo's own scores, then its variants'
            row_scores = [Score(r.n, r.m) for r in (row["ours"], row["ours_safe"])]
            for picture, variant in variants(image, photo):
                crops, found = smart_crops(picture, targets)
                for total, score in zip(
                    row_scores, score_photo(picture, variant, crops, targets), strict=True
                ):
                    total += score
                if args.save:
                    args.save.mkdir(parents=True, exist_ok=True)
                    draw(picture, crops, variant, found, args.save / f"{_slug(variant.name)}.png")
            for total, score in zip(augmented, row_scores, strict=True):
                total += score
            augmented_rows.append(f"{photo.name:<24}{'':>10}  {row_scores[0]!s:>9} {row_scores[1]!s:>9}")
        size = f"{image.width}x{image.height}"
        print(
            f"{photo.name:<24}{size:>10}  {row['ours']!s:>9} {row['ours_safe']!s:>9}"
            f"  {row['centre']!s:>11} {row['centre_safe']!s:>11}"
            f"  {row['libvips']!s:>12} {row['libvips_safe']!s:>12}"
            f"  {photo.what}"
            f" [{found_by(subject)}]"
        )
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            draw(image, ours, photo, subject, args.save / f"{_slug(photo.name)}.png")
    print(
        f"the planner given the hand-drawn subject and core (a perfect detector): kept {totals['oracle']},"
        f" safe {totals['oracle_safe']}"
    )
    if args.augment:
        print("with its variants (mirrored, top-left and bottom-right 80% windows):")
        print(*augmented_rows, sep="\n")
        print(f"augmented: kept {augmented[0]} safe {augmented[1]}")
    print(
        f"kept_ours={totals['ours']} safe_ours={totals['ours_safe']}"
        f" kept_centre={totals['centre']} safe_centre={totals['centre_safe']}"
        f" kept_libvips={totals['libvips']} safe_libvips={totals['libvips_safe']}"
    )


if __name__ == "__main__":
    main()
